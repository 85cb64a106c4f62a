"""Record mode: every expectation's GX-style result, computed vectorised without GX.

The row checks (``rowchecks``) already evaluate every row-level expectation of the suite files
as a mask; the batch-level ones (column exists, column type, table row count) are read here from
the batch's schema and counts. This module turns both into plain result dicts shaped like GX's
``ExpectationValidationResult`` (``type``, ``kwargs``, ``meta``, ``success``, ``result``,
``exception``), one per expectation of a suite, in suite order; ``gx_record`` stores them in the
GX validation results store and ``check_dicts`` gives the same check dicts ``gx_runner.validate``
returns. Nothing here imports great_expectations.

``partial_unexpected_list`` holds at most ``PARTIAL_LIMIT`` values, only from the expectation's
own canonical columns and never from the personal-data columns (``UNLISTED_COLUMNS``: only their
row positions are listed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from complaints.quality.rowchecks import RowChecks
from complaints.quality.suites import load_suite_spec

PARTIAL_LIMIT = 20
#: free text and the pseudonymous reporter: never copied into a result
UNLISTED_COLUMNS = frozenset({"title", "body", "reporter_key"})
_PANDAS_TYPES = {
    pa.string(): pd.StringDtype(),
    pa.int8(): pd.Int8Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def _param(value, params: Mapping):
    if isinstance(value, dict) and "$PARAMETER" in value:
        return params[value["$PARAMETER"]]
    return value


def plain(value):
    """A JSON-safe copy (datetimes as ISO 8601, numpy scalars as Python)."""
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def observed_types(rows: pa.Table) -> dict[str, str]:
    """Column -> the type name GX's ``expect_column_values_to_be_of_type`` observes on the
    pandas frame ``gx_runner`` validates (nullable dtypes), read from the schema alone."""
    empty = rows.schema.empty_table().to_pandas(types_mapper=_PANDAS_TYPES.get)
    return {name: dtype.type.__name__ for name, dtype in empty.dtypes.items()}


def _missing(column: str) -> dict:
    return {"exception": f'The column "{column}" in BatchData does not exist.'}


def _columns(kind: str, kw: dict) -> list[str]:
    if kind == "expect_compound_columns_to_be_unique":
        return list(kw["column_list"])
    if "column_A" in kw:
        return [kw["column_A"], kw["column_B"]]
    return [kw["column"]] if "column" in kw else []


def _missing_count(table: pa.Table, kind: str, cols: list[str]) -> int | None:
    """Rows GX leaves out of the denominator (None: the expectation reports no missing): a
    null in the column, in either column of a pair, in every column of a compound key. Counted
    in Arrow: one column's is its null count, and no mask is unpacked into numpy."""
    if kind == "expect_column_values_to_not_be_null":
        return None
    if len(cols) == 1:
        return table[cols[0]].null_count
    combine = pc.and_ if kind == "expect_compound_columns_to_be_unique" else pc.or_
    missing = pc.is_null(table[cols[0]])
    for c in cols[1:]:
        missing = combine(missing, pc.is_null(table[c]))
    return int(pc.sum(missing).as_py() or 0)


def _partial(table: pa.Table, kind: str, cols: list[str], where: np.ndarray) -> list:
    if kind == "expect_column_values_to_not_be_null":
        return [None] * len(where)
    if any(c in UNLISTED_COLUMNS for c in cols):
        return []
    picked = table.select(cols).take(pa.array(where, pa.int64())).to_pylist()
    if kind == "expect_compound_columns_to_be_unique":
        return [plain(r) for r in picked]
    if len(cols) == 2:
        return [plain([r[cols[0]], r[cols[1]]]) for r in picked]
    return [plain(r[cols[0]]) for r in picked]


def _counts(values: list) -> list[dict]:
    keyed = Counter(repr(v) for v in values)
    first = {repr(v): v for v in reversed(values)}
    return [{"value": first[k], "count": n} for k, n in keyed.most_common()]


def _row_result(table: pa.Table, kind: str, cols: list[str], mask: np.ndarray) -> dict:
    count = int(np.count_nonzero(mask))
    where = np.flatnonzero(mask)[:PARTIAL_LIMIT]
    return row_result(
        table.num_rows,
        count,
        _missing_count(table, kind, cols),
        _partial(table, kind, cols, where),
        where,
    )


def row_result(n: int, count: int, missing_count: int | None, values: list, where) -> dict:
    """A row expectation's ``result`` from its counts and first unexpected values/positions
    (``missing_count`` None: the expectation reports no missing values)."""
    result: dict = {"element_count": n}
    if missing_count is None:
        result["unexpected_count"] = count
        result["unexpected_percent"] = 100.0 * count / n if n else None
    else:
        nonmissing = n - missing_count
        pct = 100.0 * count / nonmissing if nonmissing else None
        result.update(
            missing_count=missing_count,
            missing_percent=100.0 * missing_count / n if n else None,
            unexpected_count=count,
            unexpected_percent=pct,
            unexpected_percent_nonmissing=pct,
            unexpected_percent_total=100.0 * count / n if n else None,
        )
    result.update(
        partial_unexpected_list=values,
        partial_unexpected_index_list=[int(i) for i in where],
        partial_unexpected_counts=_counts(values),
    )
    return result


def record_suite(
    suite: str,
    table: pa.Table,
    *,
    present: Mapping[str, str],
    row_checks: RowChecks,
    params: Mapping,
) -> list[dict]:
    """Plain results for every expectation of a row suite, in suite order.

    ``table``: the conformed canonical rows (``audit._conform``); ``present``: the columns the
    mapped rows carried, with their observed GX type names (``observed_types``); ``row_checks``:
    the masks of ``run_row_checks`` on ``table``; ``params`` fills ``$PARAMETER``s.
    """
    out = []
    for exp in load_suite_spec(suite)["expectations"]:
        kind, meta = exp["type"], exp.get("meta", {})
        kwargs = {k: plain(_param(v, params)) for k, v in exp["kwargs"].items()}
        cols = _columns(kind, kwargs)
        absent = [c for c in cols if c not in present]
        res: dict = {"type": kind, "kwargs": kwargs, "meta": meta, "exception": None}
        if kind == "expect_column_to_exist":
            res.update(success=not absent, result={})
        elif absent:
            res.update(success=False, result={}, **_missing(absent[0]))
        elif kind == "expect_column_values_to_be_of_type":
            observed = present[cols[0]]
            res.update(success=observed == kwargs["type_"], result={"observed_value": observed})
        else:
            mask = row_checks.rule_mask(meta["rule"])
            result = _row_result(table, kind, cols, mask)
            res.update(success=result["unexpected_count"] == 0, result=result)
        out.append(res)
    return out


def record_volume(suite: str, rows_read: int, band: tuple[float, float]) -> list[dict]:
    """Plain result of the volume suite (a table row count between the band's bounds)."""
    params = {"volume_min": band[0], "volume_max": band[1]}
    out = []
    for exp in load_suite_spec(suite)["expectations"]:
        if exp["type"] != "expect_table_row_count_to_be_between":
            raise ValueError(f"no recorded result for {exp['type']} in {suite}")
        kwargs = {k: plain(_param(v, params)) for k, v in exp["kwargs"].items()}
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        ok = (low is None or rows_read >= low) and (high is None or rows_read <= high)
        out.append(
            {
                "type": exp["type"],
                "kwargs": kwargs,
                "meta": exp.get("meta", {}),
                "exception": None,
                "success": bool(ok),
                "result": {"observed_value": int(rows_read)},
            }
        )
    return out


def check_dicts(suite: str, results: list[dict], name_of) -> list[dict]:
    """The audit's check dicts (as ``gx_runner.validate`` gives them) from plain results."""
    checks = []
    for res in results:
        details: dict = {"rule": res["meta"].get("rule")}
        observed = res["result"].get("observed_value")
        if observed is not None:
            details["observed_value"] = observed
        if res["exception"]:
            details["exception"] = res["exception"]
        count = res["result"].get("unexpected_count")
        checks.append(
            {
                "name": name_of(res["type"], res["kwargs"]),
                "suite": suite,
                "success": bool(res["success"]),
                "unexpected_count": None if count is None else int(count),
                "details": details,
            }
        )
    return checks
