"""The Parquet warehouse: publishing, reruns, late data, history, runs, recovery.

Files, layout and the catalog: test_warehouse_files.py; a source's first day:
test_warehouse_first_day.py."""

from __future__ import annotations

import random
import shutil
import threading
from datetime import date, timedelta

import pyarrow as pa
import pytest
from test_warehouse_support import (
    MON,
    SOURCE,
    THU,
    TUE,
    WED,
    assert_current_is_latest_history,
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
    assert_current_is_latest_history(wh)


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


def test_merge_reads_whole_rows_only_from_files_holding_the_days_complaints(wh, monkeypatch):
    """The current rows a day replaces are looked up by complaint_id in every month file of
    the source, then read whole from the files that hold one (not from all of them): here the
    March file (B's row, B's submission moved to May) and the June file (an update of D); the
    other months are neither read whole nor rewritten, and the result is the merge's."""
    from complaints.warehouse import current as merge

    months = {"A": 1, "B": 3, "C": 4, "D": 6, "E": 8}
    sub = {cid: ts(date(2026, m, 10)) for cid, m in months.items()}
    publish(wh, MON, [version(c, "received", ts(MON), submitted=s) for c, s in sub.items()], "m")
    read_whole = []
    register = merge.DayMerge._register

    def spy(self, name, files, schema):
        if name == "cur":
            read_whole.append(sorted(files))
        return register(self, name, files, schema)

    monkeypatch.setattr(merge.DayMerge, "_register", spy)
    moved = version("B", "verified", ts(TUE), submitted=ts(date(2026, 5, 2)))
    day = [moved, version("D", "verified", ts(TUE), submitted=sub["D"])]
    result = publish(wh, TUE, [*day, version("F", "received", ts(TUE), submitted=sub["D"])], "t")
    assert read_whole == [
        [f"complaint_current/submitted_month=2026-0{m}/{SOURCE}.parquet" for m in (3, 6)]
    ]
    assert result["current_partitions"] == ["2026-03", "2026-05", "2026-06"]
    got = {cid: (r["status"], r["submitted_month"]) for cid, r in by_id(wh).items()}
    assert got == {
        "A": ("received", "2026-01"),
        "B": ("verified", "2026-05"),
        "C": ("received", "2026-04"),
        "D": ("verified", "2026-06"),
        "E": ("received", "2026-08"),
        "F": ("received", "2026-06"),
    }
    assert_current_is_latest_history(wh)


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
