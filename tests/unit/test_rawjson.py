"""records_json writes each row exactly as json.dumps of the row's dict would."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from complaints import rawjson
from complaints.rawjson import records_json

TEXTS = ['plain', 'quote " and \\ backslash', "new\nline\ttab\r\b\f", "bell \x07 vt \x0b del \x7f",
         "Jalan Raya Bogor – é ü 漢字 😀", "", None, "/slash/"]  # fmt: skip


@pytest.mark.parametrize("row_at_a_time", [0, 1000])
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_same_text_as_json_dumps(ensure_ascii, row_at_a_time, monkeypatch):
    """Column kernels (row_at_a_time 0) and json.dumps per row give the same texts."""
    monkeypatch.setattr(rawjson, "ROW_AT_A_TIME", row_at_a_time)
    n = len(TEXTS)
    table = pa.table(
        {
            "Nomor Tiket": pa.array(TEXTS, pa.string()),
            "_row": pa.array(range(n), pa.int64()),
            'kolom "aneh" é': pa.array(list(reversed(TEXTS)), pa.string()),
            "n": pa.array([1, None, -3, 4, 5, 6, 7, 8], pa.int64()),
            "flag": pa.array([True, False, None, True, True, False, None, True]),
            "kosong": pa.nulls(n),
            "x": pa.array([1.5, None, 2.0, 0.1, 3.0, 4.0, 5.0, 6.0]),
        }
    )
    expected = [
        json.dumps(
            {k: v for k, v in r.items() if k != "_row"}, ensure_ascii=ensure_ascii, default=str
        )
        for r in table.to_pylist()
    ]
    assert records_json(table, ensure_ascii=ensure_ascii).to_pylist() == expected


def test_no_columns_and_no_rows():
    assert records_json(pa.table({"_row": [1, 2]}), ensure_ascii=True).to_pylist() == ["{}", "{}"]
    assert (
        records_json(pa.table({"a": pa.array([], pa.string())}), ensure_ascii=False).to_pylist()
        == []
    )
