"""The closing text of `make run`: where everything landed and the national figures."""

from __future__ import annotations

from datetime import date

from complaints.config import Settings


def _fmt(v, nd=2) -> str:
    if v is None or v != v:  # None or NaN
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def final_summary(settings: Settings, days: list[date], elapsed_s: float) -> str:
    from complaints.quality import data_docs_index
    from complaints.warehouse import Warehouse

    warehouse = Warehouse(settings)
    catalog = warehouse.refresh_catalog()
    con = warehouse.connect()
    try:
        runs = con.execute(
            """
            select status, count(*) as n, sum(rows_read) as read, sum(rows_loaded) as loaded,
                   sum(rows_quarantined) as quarantined
            from (select * from ingest_runs where day between ? and ?
                  qualify row_number() over (partition by source_id, day
                                             order by finished_at desc) = 1)
            group by status order by status
            """,
            [days[0], days[-1]],
        ).fetchall()
        national = con.execute(
            """
            select period, period_start, forwarded, followed_up_pct, not_followed_up_pct,
                   in_process_pct, rating_avg, rating_count, sla_completion_pct,
                   sources_reported, sources_failed
            from national_metrics
            where (period = 'day' and period_start between ? and ?)
               or (period = 'month' and period_start between ? and ?)
            order by period desc, period_start
            """,
            [days[0], days[-1], days[0].replace(day=1), days[-1]],
        ).fetchall()
        current = con.execute("select count(*) from complaint_current").fetchone()[0]
    finally:
        con.close()
    lines = [
        "",
        f"Done in {elapsed_s / 60:.1f} min: {len(days)} day(s), {days[0]} .. {days[-1]}.",
        f"  warehouse      {settings.warehouse}   (catalog: {catalog})",
        f"  quality        {data_docs_index(settings.data_dir / 'gx')}",
        f"  reports        {settings.outbox / 'index.html'}",
        f"  complaints     {current} in complaint_current",
        "",
        "Source-days by status:",
    ]
    for status, n, read, loaded, quarantined in runs:
        lines.append(
            f"  {status:<10} {n:>5} source-days  read {read or 0:>8}  loaded {loaded or 0:>8}"
            f"  quarantined {quarantined or 0:>6}"
        )
    lines += [
        "",
        "National figures (as of each day):",
        f"  {'period':<6} {'start':<10} {'forwarded':>9} {'followed':>8} {'not yet':>7}"
        f" {'in proc':>7} {'rating':>6} {'rated':>6} {'SLA done':>8} {'reported':>8} {'failed':>6}",
    ]
    for row in national:
        period, start, fwd, fu, nf, ip, rating, rated, sla, rep, failed = row
        lines.append(
            f"  {period:<6} {str(start)[:10]:<10} {_fmt(fwd):>9} {_fmt(fu):>7}% {_fmt(nf):>6}%"
            f" {_fmt(ip):>6}% {_fmt(rating):>6} {_fmt(rated):>6} {_fmt(sla):>7}%"
            f" {_fmt(rep):>8} {_fmt(failed):>6}"
        )
    lines += [
        "",
        'Query it:  .venv/bin/complaints query "select * from national_metrics"',
    ]
    return "\n".join(lines)
