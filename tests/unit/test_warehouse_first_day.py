"""A source's first day: its versions are its current rows, written beside its history
(``FreshCurrent``) or taken without ranking (``DayMerge``), the same rows as the merge's.

The merge itself, reruns and late data: test_warehouse.py."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest
from test_warehouse_support import (
    MON,
    TUE,
    WED,
    assert_current_is_latest_history,
    by_id,
    current,
    publish,
    ts,
    version,
)  # fmt: skip

from complaints import canonical
from complaints.warehouse import Warehouse
from complaints.warehouse.checksum import fingerprint


def test_days_of_new_complaints_sent_once_skip_the_ranking(wh, monkeypatch):
    """A day whose complaints have no current row yet and come once each takes its versions as
    current rows without ranking them or joining them back; the rows are the same: whole
    latest versions, rahasia text nulled, the month in the complaint's own time zone. A later
    day that updates a complaint is ranked as before."""
    from complaints.warehouse import current as merge

    def no_ranking(*args):
        raise AssertionError("a day of new complaints was ranked")

    monkeypatch.setattr(merge, "_merge_sql", no_ranking)
    zones = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
    for day, first in ((MON, 0), (TUE, 10)):  # TUE: the source has current rows, not these
        rows = []
        for n in range(first, first + 10):
            row = version(
                f"N{n}",
                "received",
                ts(day, 9 + n % 5),
                rahasia=n % 3 == 0,
                submitted=datetime(2026, 1 + n % 4, (31, 28, 31, 30)[n % 4], 20, tzinfo=UTC),
            )
            row["timezone"] = zones[n % 3]
            rows.append(row)  # fmt: skip
        publish(wh, day, rows, f"r-{day}")
    assert_current_is_latest_history(wh)
    got = by_id(wh)
    assert len(got) == 20 and got["N0"]["title"] is None and got["N1"]["title"] == "Jalan rusak"
    assert got["N2"]["submitted_month"] == "2026-04"  # 31 Mar 20:00 UTC is 1 Apr 05:00 WIT
    assert got["N4"]["submitted_month"] == "2026-02"  # 31 Jan 20:00 UTC is 1 Feb 04:00 WITA
    assert got["N11"]["first_seen_day"] == got["N11"]["last_seen_day"] == TUE
    monkeypatch.undo()
    publish(wh, WED, [version("N1", "verified", ts(WED)), version("N30", "received", ts(WED))],
            "wed")  # fmt: skip
    assert_current_is_latest_history(wh)
    assert by_id(wh)["N1"]["status"] == "verified"


def _first_day(n: int = 40) -> list[dict]:
    """A new source's first day: each complaint once, three time zones, submissions on the
    last day of a month, some in the next local month, some rahasia."""
    zones = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
    rows = []
    for i in range(n):
        month = 1 + i % 12
        end = (date(2026, month % 12 + 1, 1) if month < 12 else date(2027, 1, 1)) - timedelta(1)
        sub = datetime(2026, month, end.day, 14 + i % 10, 30, tzinfo=UTC)
        row = version(f"F{i}", "received", ts(MON, 9 + i % 8), submitted=sub, rahasia=i % 5 == 0)
        row["timezone"] = zones[i % 3]
        rows.append(row)
    return rows


def _current_files(wh) -> list[str]:
    return sorted(wh.storage.list_files("complaint_current"))


def test_first_day_writes_current_in_the_history_pass(settings, tmp_path, monkeypatch):
    """A source's first day (no current rows, not a rerun, each complaint once) has its
    current rows written beside its history (``FreshCurrent``), not merged from the staged
    history: the same rows, months and files as the merge writes, nothing left staged."""
    from complaints.warehouse import current as merge

    rows = _first_day()
    merged = Warehouse(root=str(tmp_path / "merged"))
    with monkeypatch.context() as m:
        m.setattr(merge.FreshCurrent, "applies", staticmethod(lambda *a: False))
        publish(merged, MON, rows, "r")

    def no_merge(self):
        raise AssertionError("the first day's current rows were merged")

    fresh = Warehouse(root=str(tmp_path / "fresh"))
    monkeypatch.setattr(merge.DayMerge, "partitions", no_merge)
    result = publish(fresh, MON, rows, "r")
    assert current(fresh) == current(merged)
    assert _current_files(fresh) == _current_files(merged)
    assert len(_current_files(fresh)) == len(result["current_partitions"]) > 4
    assert result["rows"]["complaint_current"] == result["complaints_touched"] == len(rows)
    assert not fresh.storage.list_files("_staging")
    assert_current_is_latest_history(fresh)
    got = by_id(fresh)
    assert got["F0"]["title"] is None and got["F1"]["title"] == "Jalan rusak"
    # 28 Feb 15:30 UTC is 23:30 WITA; 31 Mar 16:30 UTC is 1 Apr 01:30 WIT; 30 Apr 17:30 UTC
    # is 1 May 00:30 WIB; 31 Jan 16:30 UTC is 23:30 WIB
    assert (got["F1"]["submitted_month"], got["F2"]["submitted_month"]) == ("2026-02", "2026-04")
    assert (got["F3"]["submitted_month"], got["F12"]["submitted_month"]) == ("2026-05", "2026-01")
    # its second day merges as before
    monkeypatch.undo()
    publish(fresh, TUE, [version("F1", "verified", ts(TUE)), version("N", "received", ts(TUE))],
            "tue")  # fmt: skip
    assert_current_is_latest_history(fresh)
    assert by_id(fresh)["F1"]["status"] == "verified"


def test_first_day_with_a_complaint_twice_is_merged(wh):
    """A first day that sends a complaint twice is ranked by the merge: the current rows
    written beside history are discarded, the later version wins, nothing is left staged."""
    rows = _first_day(12)
    rows.append(version("F3", "verified", ts(MON, 20), submitted=rows[3]["submitted_at"]))
    result = publish(wh, MON, rows, "r")
    got = by_id(wh)
    assert len(got) == 12 and got["F3"]["status"] == "verified"
    assert result["rows"]["complaint_current"] == 12
    assert len(_current_files(wh)) == len(result["current_partitions"])
    assert not wh.storage.list_files("_staging")
    assert_current_is_latest_history(wh)


def test_a_first_day_that_fails_midway_leaves_nothing(wh, monkeypatch):
    """A first day whose history writer fails after its current writer has written files
    (batches of 2 rows, a row group per batch) leaves no file, no staging and no thread."""
    from complaints.warehouse import rows as rows_mod
    from complaints.warehouse import storage as storage_mod

    monkeypatch.setattr(rows_mod, "BATCH_ROWS", 2)
    monkeypatch.setattr(storage_mod, "ROW_GROUP_ROWS", 1)
    before = fingerprint(wh.storage)
    bad = _first_day(6)
    bad[5]["source_id"] = "kab-1"  # the third batch
    with pytest.raises(ValueError, match="carry source_id"):
        publish(wh, MON, bad, "mon")
    assert fingerprint(wh.storage) == before
    assert not wh.storage.list_files("_staging") and not wh.storage.list_files("_journal")
    assert not [t for t in threading.enumerate() if t.name == "fresh-current"]
    publish(wh, MON, _first_day(6), "mon")  # and the day publishes afterwards
    assert len(current(wh)) == 6


def test_submitted_months_match_the_merge_query():
    """``submitted_months`` (Arrow) gives the merge's ``_MONTH`` (DuckDB) for instants around
    local month boundaries in every zone; what it cannot map is ``NotFresh``."""
    import duckdb

    from complaints.warehouse.current import _MONTH, NotFresh, submitted_months

    rng = random.Random(7)
    zones = ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", None]
    stamps, tz = [], []
    for _ in range(2000):
        month_start = datetime(rng.randint(1990, 2030), rng.randint(1, 12), 1, tzinfo=UTC)
        stamps.append(month_start + timedelta(minutes=rng.randint(-12 * 60, 12 * 60)))
        tz.append(rng.choice(zones))
    t = pa.table({"submitted_at": pa.array(stamps, canonical.TS), "timezone": tz})
    ours = submitted_months(t["submitted_at"].combine_chunks(), t["timezone"].combine_chunks())
    con = duckdb.connect()
    con.register("t", t)
    theirs = con.sql(f"SELECT {_MONTH} FROM t").fetchall()  # noqa: S608 - the module's constant
    assert ours.to_pylist() == [m for (m,) in theirs]
    with pytest.raises(NotFresh, match="time zone"):
        submitted_months(pa.array(stamps[:1], canonical.TS), pa.array(["Mars/Olympus"]))
    with pytest.raises(NotFresh, match="submitted_at"):
        submitted_months(pa.array([None], canonical.TS), pa.array(["Asia/Jakarta"]))
