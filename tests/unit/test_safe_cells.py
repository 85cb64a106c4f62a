"""complaints.safe_cells: formula triggers are neutralised, numbers and plain text are not."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from complaints.safe_cells import neutralise, neutralise_frame


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x","klik")', '\'=HYPERLINK("http://x","klik")'),
        ("+62 812", "'+62 812"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Jalan rusak", "Jalan rusak"),
        ("a=b", "a=b"),
        (" =1", " =1"),
        ("", ""),
        (-5, -5),
        (-2.5, -2.5),
        (None, None),
        (True, True),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_negative_number_keeps_its_type():
    assert type(neutralise(-5)) is int and type(neutralise(-2.5)) is float


def test_neutralise_frame_object_string_category_and_numbers():
    df = pd.DataFrame(
        {
            "judul": pd.Series(["=1+1", "biasa", None], dtype=object),
            "kategori": pd.Series(["@x", "Jalan", None], dtype="string"),
            "kanal": pd.Categorical(["-web", "sms", "-web"]),
            "skor": [-1.5, 2.0, math.nan],
            "jumlah": np.array([-3, 0, 7], dtype="int64"),
            "=label": ["a", "b", "c"],
        }
    )
    out = neutralise_frame(df)
    assert out["judul"].tolist() == ["'=1+1", "biasa", None]
    assert out["kategori"].tolist()[:2] == ["'@x", "Jalan"]
    assert pd.isna(out["kategori"].iloc[2])
    assert out["kanal"].tolist() == ["'-web", "sms", "'-web"]
    assert out["skor"].tolist()[:2] == [-1.5, 2.0] and out["skor"].dtype == "float64"
    assert out["jumlah"].tolist() == [-3, 0, 7] and out["jumlah"].dtype == "int64"
    assert list(out.columns) == ["judul", "kategori", "kanal", "skor", "jumlah", "'=label"]
    assert df["judul"].iloc[0] == "=1+1"  # the input is left alone


def test_default_string_dtype_column():
    df = pd.DataFrame({"t": ["-x", "y"]})  # pandas' default str dtype
    assert neutralise_frame(df)["t"].tolist() == ["'-x", "y"]


def test_written_xlsx_holds_text_not_formulas():
    out = neutralise_frame(pd.DataFrame({"judul": ["=1+1"], "nilai": [-4]}))
    wb = Workbook()
    ws = wb.active
    ws.append(list(out.columns))
    for row in out.itertuples(index=False):
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    ws = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert ws["A2"].data_type == "s" and ws["A2"].value == "'=1+1"
    assert ws["B2"].data_type == "n" and ws["B2"].value == -4
