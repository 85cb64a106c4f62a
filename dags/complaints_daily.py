"""
### complaints_daily — pull every complaint desk's day into the warehouse

**What**: for one complaint day, fans out over every source in the registry
(`include/registry/sources.yaml`), one mapped task per source, grouped by connector kind so each
kind has its own pool. Each task extracts the source's day, removes personal data, maps it to the
canonical record, checks it (Great Expectations + row checks, bad rows to `quarantine`) and
publishes it atomically into the Parquet warehouse (`complaints.pipeline.ingest_source`).
A source that still fails after its retries does not stop the others.

**Inputs**: the sources' APIs, databases and drop folders; `params.day` to re-run one day.
**Outputs**: `raw`, `complaint_history`, `complaint_current`, `quarantine`, `ingest_runs`;
updates the `complaint_current` Asset, which triggers `complaints_metrics`, and the
`quality_results` Asset, which triggers `complaints_quality_docs` (the day's Data Docs).
**Schedule**: daily, once the WIB day has closed (the last zone to close).
**Alerts**: a source that fails its day (after its retries) e-mails the data engineers
(`COMPLAINTS_ALERT_EMAILS`, connection `smtp_default`); a run not finished by
`COMPLAINTS_PUBLISH_DEADLINE` (HH:MM WIB the next morning, default 07:00) raises a DeadlineAlert.
**Owner**: data-engineering.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task

from complaints.orchestration.alerts import publication_deadline_alert, source_failed
from complaints.orchestration.assets import COMPLAINT_CURRENT, QUALITY_RESULTS
from complaints.orchestration.policy import CONNECTOR_KINDS, DEFAULT_ARGS, pool_for


@dag(
    dag_id="complaints_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="Asia/Jakarta"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta"),
    catchup=False,
    max_active_runs=2,
    default_args=DEFAULT_ARGS,
    tags=["complaints", "ingestion"],
    doc_md=__doc__,
    params={"day": Param(None, type=["null", "string"], description="YYYY-MM-DD to (re)run")},
    # the day's figures are due at COMPLAINTS_PUBLISH_DEADLINE (WIB) the morning after
    deadline=publication_deadline_alert(),
)
def complaints_daily():
    @task
    def resolve_day(params=None, data_interval_start=None) -> str:
        from complaints.orchestration.context import run_day

        return run_day(params, data_interval_start).isoformat()

    @task
    def list_sources(kind: str) -> list[str]:
        from complaints.pipeline import list_source_ids

        return list_source_ids(kinds=[kind])

    # returns nothing, so no XCom per source (a push cost ~0.1 s of each of a national day's 681
    # tasks with dag.test()): the run row is in the task log, in ingest_runs, and in
    # summarize_day's XCom for every source
    @task(map_index_template="{{ source_id }}")
    def ingest(source_id: str, day: str) -> None:
        from datetime import date

        from complaints.orchestration.summary import log_source_run
        from complaints.pipeline import ingest_source

        get_current_context()["source_id"] = source_id
        log_source_run(ingest_source(source_id, date.fromisoformat(day)))

    @task(trigger_rule="all_done", outlets=[COMPLAINT_CURRENT, QUALITY_RESULTS])
    def summarize_day(day: str, outlet_events=None) -> dict:
        from datetime import date

        from complaints.daily import day_summary, quality_docs_index
        from complaints.orchestration.summary import log_summary

        rows = day_summary(date.fromisoformat(day))
        data_docs = quality_docs_index()  # rendered by complaints_quality_docs
        log_summary(day, rows, data_docs=data_docs)
        for asset in (COMPLAINT_CURRENT, QUALITY_RESULTS):
            outlet_events[asset].extra = {"days": [day]}
        return {"day": day, "data_docs": data_docs, "sources": rows}

    day = resolve_day()
    ingested = [
        ingest.override(
            task_id=f"ingest_{kind}", pool=pool_for(kind), on_failure_callback=source_failed
        )
        .partial(day=day)
        .expand(source_id=list_sources.override(task_id=f"list_{kind}_sources")(kind))
        for kind in CONNECTOR_KINDS
    ]
    ingested >> summarize_day(day)


complaints_daily()
