"""The day-level stages: after every source's day is in, summarise it, render the quality
docs, recompute the metrics of the periods it touched, and build the reports of closed periods.

Plain functions over the warehouse, called by the DAGs (and the CLI) without needing Airflow.
"""

from __future__ import annotations

import logging
import os
from datetime import date, timedelta

from complaints.config import Settings
from complaints.pipeline import list_source_ids, registry_for

log = logging.getLogger(__name__)


def day_summary(day: date, settings: Settings | None = None) -> list[dict]:
    """The latest ingest_runs row of every registry source for a day (missing -> not run)."""
    from complaints.warehouse import Warehouse

    settings = settings or Settings.from_env()
    con = Warehouse(settings).connect()
    try:
        cursor = con.execute(
            """
            select source_id, status, rows_read, rows_loaded, rows_quarantined,
                   round(duration_s, 2) as duration_s, error
            from ingest_runs where day = ?
            qualify row_number() over (partition by source_id order by finished_at desc) = 1
            order by status, source_id
            """,
            [day],
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    finally:
        con.close()
    seen = {r["source_id"] for r in rows}
    for sid in list_source_ids(settings):
        if sid not in seen:
            rows.append(
                {
                    "source_id": sid,
                    "status": "not_run",
                    "rows_read": None,
                    "rows_loaded": None,
                    "rows_quarantined": None,
                    "duration_s": None,
                    "error": None,
                }
            )
    return rows


def build_quality_docs(settings: Settings | None = None, *, day: date | None = None) -> str:
    """Render the Great Expectations Data Docs (once per day); path of index.html.

    With ``day``, only that day's results are rendered, and results older than
    ``settings.gx_keep_days`` days (and their pages) are removed first; without, every stored
    result is rendered again (a full rebuild).
    """
    from complaints.quality import build_data_docs

    settings = settings or Settings.from_env()
    keep_days = settings.gx_keep_days if day is not None and settings.gx_keep_days else None
    return str(build_data_docs(settings.data_dir / "gx", day, keep_days=keep_days))


def quality_docs_index(settings: Settings | None = None) -> str:
    """Where the Data Docs site's index.html is (rendered by ``build_quality_docs``)."""
    from complaints.quality import data_docs_index

    settings = settings or Settings.from_env()
    return str(data_docs_index(settings.data_dir / "gx"))


def compute_day_metrics(day: date, settings: Settings | None = None) -> dict:
    """Recompute the metrics of every period that contains `day`, as of `day`."""
    from complaints.calendar import WorkingCalendar
    from complaints.metrics import compute_metrics
    from complaints.warehouse import Warehouse

    settings = settings or Settings.from_env()
    warehouse = Warehouse(settings)
    con = warehouse.connect()
    try:
        con.register("sources", registry_for(settings).to_frame())
        tables = compute_metrics(
            con,
            as_of=day,
            calendar=WorkingCalendar(cuti_bersama=settings.cuti_bersama_is_holiday),
            prior_weight=settings.rating_prior_weight,
            since=earliest_touched_day(con, day),
        )
    finally:
        con.close()
    written = {}
    for name, frame in tables.items():
        written[name] = _write_partitions(warehouse, name, frame, day)
    warehouse.refresh_catalog()
    return written


def earliest_touched_day(con, day: date) -> date:
    """The earliest local submission date among the complaints a day's load changed.

    A complaint submitted on an earlier day and updated on ``day`` changes that earlier day's
    periods too, so they are recomputed as well; periods nothing touched are left as they are.
    """
    rows = con.execute(
        "select min(cast(timezone(timezone, submitted_at) as date)) "
        "from complaint_history where seen_day = ?",
        [day],
    ).fetchall()
    earliest = rows[0][0] if rows else None
    return min(day, earliest) if earliest else day


def _write_partitions(warehouse, name: str, frame, day: date) -> int:
    if name == "overdue_complaints":
        frame = frame.assign(as_of=day)
        warehouse.write_table(name, frame, partition={"as_of": day.isoformat()})
        return len(frame)
    if frame.empty:
        return 0
    for (period, start), part in frame.groupby(["period", "period_start"], sort=True):
        start = start.isoformat() if hasattr(start, "isoformat") else str(start)[:10]
        warehouse.write_table(
            name,
            part.drop(columns=["period", "period_start"]),
            partition={"period": period, "period_start": start},
        )
    return len(frame)


def closed_periods(day: date) -> list[tuple[str, date]]:
    """Report periods that close with `day`: its ISO week on Sunday, its month on the last day."""
    out = []
    if day.isoweekday() == 7:
        out.append(("week", day - timedelta(days=6)))
    if (day + timedelta(days=1)).day == 1:
        out.append(("month", day.replace(day=1)))
    return out


def build_period_reports(period: str, period_start: date, settings: Settings | None = None):
    """Build every institution's report and the national one for a closed period."""
    from complaints.reports import build_reports, write_index
    from complaints.warehouse import Warehouse

    settings = settings or Settings.from_env()
    con = Warehouse(settings).connect()
    try:
        con.register("sources", registry_for(settings).to_frame())
        files = build_reports(
            con, period, period_start, settings.outbox, workers=settings.report_workers
        )
        delivery = _deliver(con, files, settings)
    finally:
        con.close()
    index = write_index(settings.outbox)
    return {
        "period": period,
        "period_start": period_start.isoformat(),
        "reports": len(files),
        "index": str(index),
        "delivery": delivery,
    }


def _deliver(con, files, settings: Settings) -> dict:
    """E-mail each institution its own report through the ``smtp_default`` connection.

    Without that connection (the embedded default) nothing is sent and the run says so.
    """
    from complaints.connections import ConnectionNotFound, get_connection
    from complaints.reports import deliver_reports

    try:
        get_connection("smtp_default")
    except ConnectionNotFound:
        log.warning("no smtp_default connection: reports are in the outbox, not e-mailed")
        return {"sent": 0, "skipped": 0, "failed": 0, "note": "no smtp_default connection"}
    summary = deliver_reports(
        con,
        files,
        log_path=settings.state_dir / "delivery.jsonl",
        sender=os.environ.get("COMPLAINTS_REPORT_SENDER", "laporan@lapor.go.id"),
    )
    if summary.failed:
        log.error("report delivery failed for %s", [f[0] for f in summary.failed])
    return {
        "sent": len(summary.sent),
        "skipped": len(summary.skipped),
        "failed": len(summary.failed),
    }
