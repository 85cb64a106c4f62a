"""
### complaints_quality_docs — the day's Great Expectations Data Docs

**What**: renders the Data Docs site for every day `complaints_daily` has just checked: one
validation page per source, suite and day, and the index (`complaints.daily.build_quality_docs`).
Results older than `COMPLAINTS_GX_KEEP_DAYS` (default 14) leave the site; they stay in
`ingest_runs.check_results`. Runs on its own, after the day is published, so rendering a few
thousand pages never delays the day's figures.

**Inputs**: the GX validation results the ingest tasks wrote; `params.day` for a manual run.
**Outputs**: `var/gx/gx/uncommitted/data_docs/local_site/index.html` (embedded default).
**Owner**: data-engineering.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from complaints.orchestration.assets import QUALITY_RESULTS
from complaints.orchestration.policy import DEFAULT_ARGS


@dag(
    dag_id="complaints_quality_docs",
    schedule=[QUALITY_RESULTS],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["complaints", "quality"],
    doc_md=__doc__,
    params={"day": Param(None, type=["null", "string"], description="YYYY-MM-DD to render")},
)
def complaints_quality_docs():
    @task
    def build_data_docs(params=None, triggering_asset_events=None) -> dict:
        from complaints.daily import build_quality_docs
        from complaints.orchestration.context import triggered_days

        days = triggered_days(triggering_asset_events, params)
        return {d.isoformat(): build_quality_docs(day=d) for d in days}

    build_data_docs()


complaints_quality_docs()
