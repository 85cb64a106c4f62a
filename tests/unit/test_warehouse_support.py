"""Builders shared by the warehouse tests (no tests here)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

from complaints import canonical, tables

SOURCE = "prov-31"


def ts(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def version(
    cid: str,
    status: str,
    updated: datetime,
    *,
    submitted: datetime | None = None,
    source: str = SOURCE,
    rahasia: bool = False,
    title: str = "Jalan rusak",
    rating: int | None = None,
) -> dict:
    submitted = submitted or datetime(2026, 10, 5, 3, tzinfo=UTC)
    return {
        "complaint_id": cid,
        "source_id": source,
        "institution_id": source,
        "region_code": "31",
        "timezone": "Asia/Jakarta",
        "classification": "pengaduan",
        "berkadar_pengawasan": False,
        "category": "infrastruktur",
        "channel": "web",
        "is_rahasia": rahasia,
        "is_anonim": False,
        "title": title,
        "body": f"isi {cid} {status}",
        "status": status,
        "rating": rating,
        "reporter_key": "k" + cid,
        "submitted_at": submitted,
        "verified_at": submitted + timedelta(hours=5) if status != "received" else None,
        "forwarded_at": None,
        "first_response_at": None,
        "followed_up_at": None,
        "closed_at": updated if status == "closed" else None,
        "updated_at": updated,
    }


def versions(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=canonical.schema())


def quarantine(source: str, day: date, n: int = 0, run_id: str = "r") -> pa.Table:
    rows = [
        {
            "source_id": source,
            "day": day,
            "run_id": run_id,
            "row_number": 100 + i,
            "complaint_id": f"bad-{i}",
            "raw": '{"status": "??"}',
            "reasons": ["status not in vocabulary"],
        }
        for i in range(n)
    ]
    return pa.Table.from_pylist(rows, schema=tables.QUARANTINE_SCHEMA)


def raw(rows: list[dict]) -> pa.Table:
    return pa.table(
        {
            "_row": list(range(len(rows))),
            "id_aduan": [r["complaint_id"] for r in rows],
            "status": [r["status"] for r in rows],
        }
    )


def run(source: str, day: date, run_id: str, rows_read: int, cursor: str | None = None) -> dict:
    return {
        "run_id": run_id,
        "source_id": source,
        "day": day,
        "connector_kind": "http",
        "status": "published",
        "started_at": ts(day, 20),
        "finished_at": ts(day, 21),
        "duration_s": 1.5,
        "rows_read": rows_read,
        "rows_loaded": rows_read,
        "rows_quarantined": 0,
        "checks_run": 3,
        "checks_failed": 0,
        "check_results": "[]",
        "cursor_before": None,
        "cursor_after": cursor or ts(day + timedelta(days=1), 0).isoformat(),
        "error": None,
        "data_docs": None,
    }


def publish(wh, day: date, rows: list[dict], run_id: str, source: str = SOURCE, nq: int = 0):
    return wh.publish_source_day(
        source,
        day,
        raw=raw(rows),
        versions=versions(rows),
        quarantine=quarantine(source, day, nq, run_id),
        run=run(source, day, run_id, len(rows) + nq),
    )


MON, TUE, WED, THU = (date(2026, 10, 5) + timedelta(days=i) for i in range(4))


def current(wh) -> list[dict]:
    """complaint_current's rows, by source and complaint id."""
    rows = wh.read("complaint_current").to_pylist()
    return sorted(rows, key=lambda r: (r["source_id"], r["complaint_id"]))


def by_id(wh) -> dict[str, dict]:
    return {r["complaint_id"]: r for r in current(wh)}


def assert_current_is_latest_history(wh) -> None:
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
