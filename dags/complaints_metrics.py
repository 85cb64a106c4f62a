"""
### complaints_metrics — ratings, status shares and SLA compliance

**What**: recomputes `institution_metrics`, `region_metrics`, `national_metrics` and
`overdue_complaints` for every period (day, ISO week, month, rolling 30 days) that contains a
day `complaints_daily` has just published, as of that day, with the SQL in `include/sql/`
(`complaints.daily.compute_day_metrics`). Runs on its own whenever `complaint_current` is
updated, so a backfilled or re-run day flows on by itself.

**Inputs**: `complaint_current`, `ingest_runs`, the registry; `params.day` for a manual run.
**Outputs**: the metrics tables; updates the `institution_metrics` Asset (triggers reports).
**Owner**: data-engineering.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from complaints.orchestration.assets import COMPLAINT_CURRENT, INSTITUTION_METRICS
from complaints.orchestration.policy import DEFAULT_ARGS


@dag(
    dag_id="complaints_metrics",
    schedule=[COMPLAINT_CURRENT],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["complaints", "metrics"],
    doc_md=__doc__,
    params={"day": Param(None, type=["null", "string"], description="YYYY-MM-DD to recompute")},
)
def complaints_metrics():
    @task(outlets=[INSTITUTION_METRICS])
    def compute_metrics(params=None, triggering_asset_events=None, outlet_events=None) -> dict:
        from complaints.daily import compute_day_metrics
        from complaints.orchestration.context import triggered_days

        days = triggered_days(triggering_asset_events, params)
        written = {d.isoformat(): compute_day_metrics(d) for d in days}
        outlet_events[INSTITUTION_METRICS].extra = {"days": sorted(written)}
        return written

    compute_metrics()


complaints_metrics()
