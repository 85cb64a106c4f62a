"""key_duplicates: the in-memory "no key repeats" shortcut gives what the DuckDB query gives."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from complaints.quality import keys as keys_mod
from complaints.quality.keys import DUPLICATES_SCHEMA, KEY_RECORD_SCHEMA, key_duplicates

T1 = datetime(2026, 10, 30, 1, tzinfo=UTC)
T2 = datetime(2026, 10, 30, 2, tzinfo=UTC)


def records(rows: list[tuple]) -> pa.Table:
    """Key records from ``(complaint_id, updated_at, hash)``; positions and rows in order."""
    n = len(rows)
    return pa.table(
        [
            pa.array(range(n), pa.int64()),
            pa.array(range(10, 10 + n), pa.int64()),
            pa.array([r[0] for r in rows], pa.string()),
            pa.array([r[1] for r in rows], KEY_RECORD_SCHEMA.field("updated_at").type),
            pa.array([r[2] for r in rows], pa.uint64()),
            pa.array([False] * n),
        ],
        schema=KEY_RECORD_SCHEMA,
    )


CASES = {
    "unique": [("a", T1, 1), ("a", T2, 2), ("b", T1, 3), (None, T1, 4), ("c", None, 5)],
    "copy": [("a", T1, 1), ("b", T1, 2), ("a", T1, 1)],
    "conflict": [("a", T1, 1), ("a", T1, 2), ("b", T2, 3)],
    # null keys are equal to each other (pandas' duplicated)
    "null ids": [(None, T1, 1), (None, T1, 1), ("a", T1, 2)],
    "null both": [(None, None, 1), ("a", T1, 2), (None, None, 3)],
}


def by_query(table: pa.Table, monkeypatch) -> pa.Table:
    with monkeypatch.context() as m:
        m.setattr(keys_mod, "UNIQUE_CHECK_ROWS", -1)  # never the in-memory shortcut
        return key_duplicates(table)


@pytest.mark.parametrize("name", list(CASES))
def test_the_shortcut_agrees_with_the_query(name, monkeypatch, tmp_path):
    table = records(CASES[name])
    expected = by_query(table, monkeypatch)
    assert key_duplicates(table).equals(expected)
    # the same from spilled parts (what a source-day passes)
    ds.write_dataset(table, tmp_path, format="ipc")
    assert key_duplicates(ds.dataset(tmp_path, format="ipc", schema=KEY_RECORD_SCHEMA)).equals(
        expected
    )
    assert (expected.num_rows == 0) == (name == "unique")


def test_repeats_are_found_and_labelled():
    dups = key_duplicates(records(CASES["copy"])).to_pylist()
    assert [(d["pos"], d["copy"], d["conflict"]) for d in dups] == [
        (0, False, False),
        (2, True, False),
    ]
    dups = key_duplicates(records(CASES["null ids"])).to_pylist()
    assert [(d["pos"], d["complaint_id"], d["copy"]) for d in dups] == [
        (0, None, False),
        (1, None, True),
    ]


def test_a_day_over_the_limit_is_checked_in_duckdb(monkeypatch):
    """Up to the limit, a day without repeated keys is answered in memory; over it, by DuckDB's
    distinct count (one cursor), and a day with repeats then goes on to the query."""
    called = []
    real = keys_mod.scratchdb.cursor

    def cursor():
        called.append(1)
        return real()

    monkeypatch.setattr(keys_mod.scratchdb, "cursor", cursor)
    table = records(CASES["unique"])
    assert key_duplicates(table).equals(DUPLICATES_SCHEMA.empty_table())
    assert called == []  # answered in memory
    monkeypatch.setattr(keys_mod, "UNIQUE_CHECK_ROWS", table.num_rows - 1)
    assert key_duplicates(table).num_rows == 0
    assert called == [1]
    repeated = records(CASES["null both"])
    in_memory = key_duplicates(repeated)  # 3 records: under the limit, then the query
    assert called == [1, 1] and in_memory.num_rows == 2
    monkeypatch.setattr(keys_mod, "UNIQUE_CHECK_ROWS", 1)
    assert key_duplicates(repeated).equals(in_memory)
    assert called == [1, 1, 1, 1]  # the distinct count, then the query


def test_key_records_hash_each_row_in_place():
    """The row hashes come back from DuckDB in any order and are put back by position: each
    record's hash is its own row's, whatever the table's chunks (scanned in parallel)."""
    from complaints.quality.keys import key_records

    n = 20_000
    ids = [f"c{i % 7000}" for i in range(n)]  # repeated ids: rows differ in the other column
    body = [f"isi {i}" for i in range(n)]
    whole = pa.table({"complaint_id": ids, "updated_at": pa.array([T1] * n), "body": body})
    table = pa.Table.from_batches(whole.to_batches(max_chunksize=997))
    records = key_records(table, 5, [i % 3 == 0 for i in range(n)])
    assert records["pos"].to_pylist() == list(range(5, 5 + n))
    assert records["bad"].to_pylist()[:4] == [True, False, False, True]
    single = [key_records(table.slice(i, 1), 0, [False])["h"][0].as_py() for i in (0, 4321, n - 1)]
    got = records["h"].to_pylist()
    assert [got[0], got[4321], got[n - 1]] == single
    assert len(set(got)) == n  # every row differs from every other: so do the hashes


def _rows_table(rows: list[tuple]) -> pa.Table:
    """Canonical-like rows from ``(complaint_id, updated_at, body)`` with ``_row`` 10, 11 ..."""
    return pa.table(
        {
            "complaint_id": pa.array([r[0] for r in rows], pa.string()),
            "updated_at": pa.array(
                [r[1] for r in rows], KEY_RECORD_SCHEMA.field("updated_at").type
            ),
            "body": pa.array([r[2] for r in rows], pa.string()),
            "_row": pa.array(range(10, 10 + len(rows)), pa.int64()),
        }
    )


LAZY_CASES = {
    "unique": [("a", T1, "x"), ("a", T2, "x"), ("b", T1, "y")],
    "copy": [("a", T1, "x"), ("b", T1, "y"), ("a", T1, "x")],
    "conflict": [("a", T1, "x"), ("a", T1, "z"), ("b", T2, "y")],
    "copy and conflict": [("a", T1, "x"), ("a", T1, "x"), ("a", T1, "z"), ("c", T1, None)],
    "null ids": [(None, T1, "x"), (None, T1, "x"), ("a", T1, "y")],
    "null both": [(None, None, "x"), ("a", T1, "y"), (None, None, "z")],
}


@pytest.mark.parametrize("name", list(LAZY_CASES))
@pytest.mark.parametrize("bad_at", [(), (1,), (0, 2)])
def test_hashing_only_the_repeated_rows_gives_what_hashing_every_row_gives(
    name, bad_at, monkeypatch
):
    from complaints.quality.keys import key_records, row_hashes

    table = _rows_table(LAZY_CASES[name])
    bad = [i in bad_at for i in range(table.num_rows)]
    eager = key_duplicates(key_records(table, 3, bad))
    asked = []

    def hashes(rows):
        asked.append(sorted(rows.tolist()))
        return row_hashes(table.filter(pa.compute.is_in(table["_row"], pa.array(rows))))

    for shortcut in (True, False):  # in memory first, and always the query
        with monkeypatch.context() as m:
            if not shortcut:
                m.setattr(keys_mod, "UNIQUE_CHECK_ROWS", -1)
            lazy = key_duplicates(key_records(table, 3, bad, hashed=False), hashes)
        assert lazy.equals(eager)
    assert all(a == sorted(eager["_row"].to_pylist()) for a in asked)  # only the repeated rows
    assert (asked == []) == (name == "unique")


def test_missing_hashes_are_an_error_not_fewer_duplicates():
    from complaints.quality.keys import key_records, row_hashes

    table = _rows_table(LAZY_CASES["copy"])
    records = key_records(table, 0, [False] * 3, hashed=False)
    with pytest.raises(RuntimeError, match="hashes for 1 of 2"):
        key_duplicates(records, lambda rows: row_hashes(table.slice(0, 1)))
