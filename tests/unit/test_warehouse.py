"""The Parquet warehouse: publishing, reruns, late data, history, runs, recovery.

Files, layout and the catalog: test_warehouse_files.py."""

from __future__ import annotations

import random
import shutil
import threading
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest
from test_warehouse_support import (
    MON,
    SOURCE,
    THU,
    TUE,
    WED,
    by_id,
    current,
    publish,
    quarantine,
    raw,
    run,
    ts,
    version,
    versions,
)  # fmt: skip

from complaints import canonical
from complaints.warehouse import Warehouse
from complaints.warehouse.checksum import fingerprint


def test_publish_and_read_back(wh, settings):
    rows = [
        version("A", "received", ts(MON)),
        version("B", "verified", ts(MON, 10)),
        version("B", "in_process", ts(MON, 11)),
    ]
    result = publish(wh, MON, rows, "run-1", nq=2)
    assert result["rows"]["complaint_history"] == 3
    assert result["current_partitions"] == ["2026-10"]
    root = settings.data_dir / "warehouse"
    for rel in (
        "raw/source_id=prov-31/day=2026-10-05/part-0.parquet",
        "complaint_history/source_id=prov-31/day=2026-10-05/part-0.parquet",
        "complaint_current/submitted_month=2026-10/prov-31.parquet",
        "quarantine/source_id=prov-31/day=2026-10-05/part-0.parquet",
        "ingest_runs/source_id=prov-31/day=2026-10-05/run-run-1.parquet",
    ):
        assert (root / rel).is_file(), rel
    assert not list((root / "_staging").glob("*")) and not list((root / "_journal").glob("*"))
    cur = by_id(wh)
    assert sorted(cur) == ["A", "B"]
    assert cur["B"]["status"] == "in_process"
    assert cur["B"]["first_seen_day"] == MON == cur["B"]["last_seen_day"]
    con = wh.connect()
    assert con.sql("select count(*) from complaint_history").fetchall()[0][0] == 3
    assert con.sql("select count(*) from quarantine").fetchall()[0][0] == 2
    assert con.sql("select max(rows_read) from ingest_runs").fetchall()[0][0] == 5
    day, month = con.sql(
        "select min(day), min(submitted_month) from complaint_history h "
        "join complaint_current c using (source_id, complaint_id)"
    ).fetchall()[0]
    assert (day, month) == (MON, "2026-10")
    assert con.sql("select count(*) from raw where day = DATE '2026-10-05'").fetchall()[0][0] == 3


def test_rerun_same_day_is_idempotent(wh):
    rows = [version("A", "received", ts(MON)), version("B", "verified", ts(MON))]
    publish(wh, MON, rows, "run-1", nq=1)
    before = fingerprint(wh.storage)
    publish(wh, MON, rows, "run-1", nq=1)  # a task retry: same attempt
    assert fingerprint(wh.storage) == before
    publish(wh, MON, rows, "run-2", nq=1)  # a new attempt
    after = fingerprint(wh.storage)
    assert wh.read("quarantine").num_rows == 1  # its rows carry the new run_id
    for table in ("complaint_current", "raw"):
        assert after[table] == before[table], table
    assert wh.read("complaint_history").num_rows == 2
    assert wh.read("ingest_runs").num_rows == 2  # every attempt kept
    assert wh.connect().sql("select count(*) from complaint_current").fetchall()[0][0] == 2


def test_late_older_version_never_overwrites_newer(wh):
    publish(wh, WED, [version("X", "verified", ts(WED))], "wed")
    publish(wh, TUE, [version("X", "received", ts(TUE))], "tue")  # late, older
    x = by_id(wh)["X"]
    assert x["status"] == "verified"
    assert (x["first_seen_day"], x["last_seen_day"], x["seen_day"]) == (TUE, WED, WED)
    assert wh.read("complaint_history").num_rows == 2


def test_status_change_on_later_day(wh):
    publish(wh, MON, [version("A", "verified", ts(MON))], "mon")
    publish(wh, TUE, [version("A", "closed", ts(TUE), rating=5)], "tue")
    a = by_id(wh)["A"]
    assert (a["status"], a["rating"], a["last_seen_day"]) == ("closed", 5, TUE)
    con = wh.connect()
    statuses = con.sql(
        "select status from complaint_history where complaint_id = 'A' order by updated_at"
    ).fetchall()
    assert statuses == [("verified",), ("closed",)]


def test_rerun_that_drops_a_version_falls_back_to_history(wh):
    publish(wh, MON, [version("A", "verified", ts(MON))], "mon")
    publish(wh, TUE, [version("A", "closed", ts(TUE)), version("B", "received", ts(TUE))], "tue")
    publish(wh, TUE, [], "tue-2")  # the rerun no longer sees Tuesday's versions
    cur = by_id(wh)
    assert sorted(cur) == ["A"]  # B has no version left anywhere
    assert (cur["A"]["status"], cur["A"]["last_seen_day"]) == ("verified", MON)


def test_backfill_rerun_equals_forward_run(wh, settings, tmp_path):
    days = {
        MON: [version("A", "received", ts(MON)), version("B", "received", ts(MON))],
        TUE: [version("A", "verified", ts(TUE)), version("C", "received", ts(TUE))],
        WED: [version("A", "in_process", ts(WED)), version("C", "verified", ts(WED))],
        THU: [version("B", "verified", ts(THU)), version("A", "closed", ts(THU))],
    }
    for d, rows in days.items():
        publish(wh, d, rows, f"fwd-{d}")
    forward = current(wh)
    publish(wh, TUE, days[TUE], "backfill-tue")
    assert current(wh) == forward
    assert wh.read("complaint_history").num_rows == 8


def _random_days(rng: random.Random, ids: list[str]) -> dict[date, list[dict]]:
    out: dict[date, list[dict]] = {}
    for n, d in enumerate(date(2026, 9, 28) + timedelta(days=i) for i in range(6)):
        rows = []
        for cid in rng.sample(ids, rng.randint(0, len(ids))):
            for _ in range(rng.randint(1, 2)):
                # updated_at may lag the day it is seen (late data) and may tie
                upd = ts(d - timedelta(days=rng.randint(0, 3)), rng.choice([8, 9]))
                sub = ts(date(2026, 9, 20) + timedelta(days=rng.randint(0, 16)), 20)
                rows.append(
                    version(
                        cid,
                        rng.choice(["received", "verified", "closed"]),
                        upd,
                        submitted=sub,
                        rahasia=rng.random() < 0.2,
                        title=f"t{n}",
                    )
                )
        out[d] = rows
    return out


@pytest.mark.parametrize("seed", range(4))
def test_reruns_in_any_order_equal_a_fresh_forward_build(settings, tmp_path, seed):
    """Whatever days are rerun with changed data, current equals a build from final data."""
    rng = random.Random(seed)
    ids = [f"c{i}" for i in range(12)]
    wh = Warehouse(root=str(tmp_path / "a"))
    first = _random_days(rng, ids)
    for d in rng.sample(sorted(first), len(first)):  # arbitrary arrival order
        publish(wh, d, first[d], f"a-{d}")
    final = dict(first)
    for d in rng.sample(sorted(first), 4):
        final[d] = _random_days(rng, ids)[d]
        publish(wh, d, final[d], f"b-{d}")
    fresh = Warehouse(root=str(tmp_path / "b"))
    for d in sorted(final):
        publish(fresh, d, final[d], f"b-{d}")
    assert current(wh) == current(fresh)
    # and current equals the latest version per complaint over all of history
    con = wh.connect()
    mismatch = con.sql(
        """
        with ranked as (
          select *, row_number() over (partition by source_id, complaint_id
                 order by updated_at desc, seen_day desc, version_seq desc) as rn
          from complaint_history)
        select count(*) from ranked r full join complaint_current c using (source_id, complaint_id)
        where r.rn = 1 and (c.complaint_id is null or r.status is distinct from c.status
              or r.updated_at is distinct from c.updated_at or r.seen_day <> c.seen_day)
        """
    ).fetchall()[0][0]
    assert mismatch == 0
    assert (
        con.sql("select count(*) from complaint_current").fetchall()[0][0]
        == con.sql("select count(distinct complaint_id) from complaint_history").fetchall()[0][0]
    )


@pytest.mark.parametrize("seed", range(3))
def test_current_rows_are_whole_latest_history_rows(tmp_path, seed):
    """The merge ranks on key columns and joins the chosen rows back: every column of current
    still equals the latest history version (ranked over whole rows, as before), and
    first/last seen days span all of history, through reruns in any order."""
    rng = random.Random(100 + seed)
    ids = [f"c{i}" for i in range(15)]
    wh = Warehouse(root=str(tmp_path / "w"))
    days = _random_days(rng, ids)
    for d in rng.sample(sorted(days), len(days)):
        publish(wh, d, days[d], f"a-{d}")
    for d in rng.sample(sorted(days), 3):
        publish(wh, d, _random_days(rng, ids)[d], f"b-{d}")
    _assert_current_is_latest_history(wh)


def _assert_current_is_latest_history(wh) -> None:
    """Every column of current equals the latest history version (ranked over whole rows),
    first/last seen days span all of history."""
    cols = ", ".join(canonical.FIELD_NAMES) + ", seen_day, first_seen_day, last_seen_day"
    con = wh.connect()
    con.execute(
        f"""create temp view reference as
        with ranked as (
          select *, min(seen_day) over w as first_seen_day, max(seen_day) over w as last_seen_day,
                 row_number() over (partition by source_id, complaint_id
                   order by updated_at desc, seen_day desc, version_seq desc) as rn
          from complaint_history window w as (partition by source_id, complaint_id))
        select {cols} from ranked where rn = 1"""  # noqa: S608 - fixed column names
    )
    con.execute(f"create temp view got as select {cols} from complaint_current")  # noqa: S608
    assert con.sql("select count(*) from got").fetchall()[0][0] > 0
    for a, b in (("reference", "got"), ("got", "reference")):
        query = f"select count(*) from (from {a} except all from {b})"  # noqa: S608
        assert con.sql(query).fetchall()[0][0] == 0


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
    _assert_current_is_latest_history(wh)
    got = by_id(wh)
    assert len(got) == 20 and got["N0"]["title"] is None and got["N1"]["title"] == "Jalan rusak"
    assert got["N2"]["submitted_month"] == "2026-04"  # 31 Mar 20:00 UTC is 1 Apr 05:00 WIT
    assert got["N4"]["submitted_month"] == "2026-02"  # 31 Jan 20:00 UTC is 1 Feb 04:00 WITA
    assert got["N11"]["first_seen_day"] == got["N11"]["last_seen_day"] == TUE
    monkeypatch.undo()
    publish(wh, WED, [version("N1", "verified", ts(WED)), version("N30", "received", ts(WED))],
            "wed")  # fmt: skip
    _assert_current_is_latest_history(wh)
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
    _assert_current_is_latest_history(fresh)
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
    _assert_current_is_latest_history(fresh)
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
    _assert_current_is_latest_history(wh)


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


def test_submitted_month_is_local_and_moves_partition(wh):
    # 2026-09-30 18:00 UTC is 2026-10-01 01:00 WIB
    sub = ts(date(2026, 9, 30), 18)
    publish(wh, MON, [version("A", "received", ts(MON), submitted=sub)], "mon")
    assert by_id(wh)["A"]["submitted_month"] == "2026-10"
    # a correction moves the submission into September: the October row must go
    fixed = ts(date(2026, 9, 29), 3)
    publish(wh, TUE, [version("A", "verified", ts(TUE), submitted=fixed)], "tue")
    rows = current(wh)
    assert [(r["complaint_id"], r["submitted_month"]) for r in rows] == [("A", "2026-09")]


def test_rahasia_text_is_never_published(wh):
    rows = [version("S", "received", ts(MON), rahasia=True), version("P", "received", ts(MON))]
    publish(wh, MON, rows, "mon")
    con = wh.connect()
    for table in ("complaint_current", "complaint_history"):
        sql = f"select complaint_id, title, body from {table} order by 1"  # noqa: S608
        got = con.sql(sql).fetchall()
        assert got[1] == ("S", None, None)
        assert got[0][1] == "Jalan rusak"


def test_record_run_leaves_data_alone_and_cursor_follows_published(wh):
    publish(wh, MON, [version("A", "received", ts(MON))], "mon", nq=0)
    before = fingerprint(wh.storage)
    failed = run(SOURCE, TUE, "tue-failed", 0, cursor="2099-01-01T00:00:00+00:00")
    failed["status"] = "failed"
    failed["error"] = "HTTP 503"
    wh.record_run(SOURCE, TUE, failed)
    after = fingerprint(wh.storage)
    assert {k: v for k, v in after.items() if k != "ingest_runs"} == {
        k: v for k, v in before.items() if k != "ingest_runs"
    }
    assert wh.last_cursor(SOURCE) == ts(TUE, 0).isoformat()
    assert wh.last_cursor("kab-9999") is None
    publish(wh, TUE, [version("A", "verified", ts(TUE))] * 1, "tue")
    publish(wh, WED, [version("B", "received", ts(WED)), version("C", "received", ts(WED))], "w")
    assert wh.last_cursor(SOURCE) == ts(THU, 0).isoformat()
    assert wh.recent_row_counts(SOURCE, before=WED) == [1, 1]
    assert wh.recent_row_counts(SOURCE, before=THU, n=2) == [1, 2]
    assert wh.recent_row_counts(SOURCE, before=MON) == []


def test_recover_removes_stage_without_journal(wh):
    publish(wh, MON, [version("A", "received", ts(MON))], "mon")
    before = fingerprint(wh.storage)
    wh.storage.write_parquet(
        "_staging/source-prov-31__x/complaint_current/submitted_month=2026-10/"
        "source_id=prov-31/part-0.parquet",
        pa.table({"junk": [1]}),
    )
    assert wh.recover() == ["rolled back source-prov-31__x"]
    assert fingerprint(wh.storage) == before


def test_recover_removes_a_journal_killed_before_its_rename(wh):
    """A kill inside the journal's atomic write leaves its temp file and the stage folder:
    the transaction never committed, so both go and the warehouse is as before."""
    publish(wh, MON, [version("A", "received", ts(MON))], "mon")
    before = fingerprint(wh.storage)
    txid = "source-prov-31__y"
    wh.storage.write_parquet(f"_staging/{txid}/quarantine/part-0.parquet", pa.table({"x": [1]}))
    wh.storage.path(f"_journal/.{txid}.json.tmp").write_text('{"txid": "source-prov-31__y", "mo')
    wh.storage.path(f"_journal/.{txid}-other.json.tmp").write_text("{")  # no stage, same story
    assert wh.recover() == [f"rolled back {txid}", f"rolled back {txid}-other"]
    assert fingerprint(wh.storage) == before
    assert not wh.storage.list_files("_staging") and not wh.storage.list_files("_journal")


def test_bad_input_leaves_warehouse_unchanged(wh):
    publish(wh, MON, [version("A", "received", ts(MON))], "mon")
    before = fingerprint(wh.storage)
    wrong = [version("A", "received", ts(TUE), source="kab-1")]
    with pytest.raises(ValueError):
        wh.publish_source_day(
            SOURCE,
            TUE,
            raw=raw(wrong),
            versions=versions(wrong),
            quarantine=quarantine(SOURCE, TUE),
            run=run(SOURCE, TUE, "t", 1),
        )
    assert fingerprint(wh.storage) == before
    assert not wh.storage.list_files("_staging") and not wh.storage.list_files("_journal")


def test_sources_publish_concurrently(wh, tmp_path):
    sources = [f"kab-{i}" for i in range(6)]
    errors: list[BaseException] = []

    def load(source: str) -> None:
        try:
            for d in (MON, TUE, MON):
                rows = [
                    version(f"{source}-{j}", "received", ts(d), source=source) for j in range(5)
                ]
                publish(wh, d, rows, f"{source}-{d}", source=source)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(s,)) for s in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    con = wh.connect()
    assert con.sql("select count(*) from complaint_current").fetchall()[0][0] == 30
    assert con.sql("select count(*) from complaint_history").fetchall()[0][0] == 60
    copy = tmp_path / "copy"
    shutil.copytree(wh.storage.root, copy)
    assert Warehouse(root=str(copy)).recover() == []
