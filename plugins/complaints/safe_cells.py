"""Spreadsheet-safe cell values for CSV and XLSX output (formula / CSV injection).

Following OWASP's CSV injection guidance, a text cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading apostrophe, so a spreadsheet shows it as text
instead of running it as a formula. Only text is touched: a real negative number stays a number.
Complaint titles, categories and institution names come from the public and from sources, so
every report writer passes its frames through :func:`neutralise_frame` first.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: first characters a spreadsheet may read as the start of a formula
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"


def neutralise(value: Any) -> Any:
    """``"=1+1"`` -> ``"'=1+1"``; anything that is not a string is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return PREFIX + value
    return value


def _neutralise_series(series: pd.Series) -> pd.Series:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = [neutralise(c) for c in dtype.categories]
        if categories == list(dtype.categories):
            return series
        return series.cat.rename_categories(categories)
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        starts = series.str.startswith(FORMULA_TRIGGERS).fillna(False).astype(bool)
        if not starts.any():
            return series
        out = series.copy()
        out[starts] = PREFIX + series[starts]
        return out
    if pd.api.types.is_object_dtype(dtype):
        # not Series.map: it would infer a new dtype (None -> NaN in a str column)
        values = [neutralise(v) for v in series.tolist()]
        return pd.Series(values, index=series.index, name=series.name, dtype=object)
    return series  # numbers, booleans, timestamps: never formulas


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell and column label neutralised."""
    out = df.copy()
    for i in range(out.shape[1]):
        out.isetitem(i, _neutralise_series(out.iloc[:, i]))
    out.columns = [neutralise(c) for c in out.columns]
    return out
