"""
### complaints_reports — rating reports for every institution and the nation

**What**: when a day that closes a period (a Sunday closes its ISO week, the last day of a month
closes the month) has fresh metrics, builds each institution's report (PDF + XLSX, in Bahasa
Indonesia) and the national report for KemenPAN-RB into the outbox, refreshes the outbox index,
and e-mails each institution its own report (`complaints.daily.build_period_reports`).

**Inputs**: the metrics tables, `overdue_complaints`, `ingest_runs`, the registry.
**Outputs**: `<outbox>/<period>/<period_start>/<institution>/...`, `<outbox>/index.html`.
**Owner**: data-engineering.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from complaints.orchestration.assets import INSTITUTION_METRICS
from complaints.orchestration.policy import DEFAULT_ARGS


@dag(
    dag_id="complaints_reports",
    schedule=[INSTITUTION_METRICS],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["complaints", "reports"],
    doc_md=__doc__,
    params={
        "day": Param(None, type=["null", "string"], description="YYYY-MM-DD that closed a period")
    },
)
def complaints_reports():
    @task
    def build_reports(params=None, triggering_asset_events=None) -> list[dict]:
        from complaints.daily import build_period_reports, closed_periods
        from complaints.orchestration.context import triggered_days

        built = []
        for day in triggered_days(triggering_asset_events, params):
            for period, start in closed_periods(day):
                built.append(build_period_reports(period, start))
        return built

    build_reports()


complaints_reports()
