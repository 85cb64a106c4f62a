"""The four DAGs (daily, metrics, reports, quality docs) end to end with dag.test().

The small registry (6 sources: 2 http, 2 sql, 2 file) is simulated for two days; the DAGs run
in-process against the embedded SQLite Airflow; the warehouse must hold what the sources sent.
"""

from __future__ import annotations

import os
from datetime import date

import pytest

from complaints.config import INCLUDE_DIR

pytestmark = pytest.mark.slow

DAY1, DAY2 = date(2026, 10, 30), date(2026, 10, 31)  # Friday, and the last day of October


@pytest.fixture
def embedded(settings, monkeypatch, airflow_db):
    from complaints.orchestration.local import DAGS, load_dag, local_connections
    from complaints.pipeline import registry_for
    from complaints.simulate import serve_api, simulate

    monkeypatch.setenv("COMPLAINTS_REGISTRY", str(INCLUDE_DIR / "registry" / "sources.small.yaml"))
    monkeypatch.setenv("COMPLAINTS_PUBLISH_DEADLINE", "off")  # dag.test() cannot end such runs
    from complaints.config import Settings

    settings = Settings.from_env()
    registry = registry_for(settings)
    summary = simulate(settings, registry.sources, DAY1, DAY2, seed=7, scale=0.5)
    with serve_api(settings, token="test-token") as api:
        for key, value in local_connections(settings, api.base_url, "test-token").items():
            monkeypatch.setenv(key, value)
        dags = {d: load_dag(d) for d in DAGS}
        yield settings, registry, summary, dags


def test_daily_run_lands_every_source_in_the_warehouse(embedded):
    from complaints.warehouse import Warehouse

    settings, registry, summary, dags = embedded
    for day in (DAY1, DAY2):
        run = dags["complaints_daily"].test(run_conf={"day": day.isoformat()})
        assert str(run.state) == "success"

    con = Warehouse(settings).connect()
    runs = con.execute(
        "select source_id, day, status, rows_read, rows_loaded, rows_quarantined "
        "from ingest_runs order by source_id, day"
    ).fetchall()
    assert {(r[0], r[1]) for r in runs} == {
        (s.id, d) for s in registry.sources for d in (DAY1, DAY2)
    }
    for source_id, day, status, read, loaded, quarantined in runs:
        assert status == "published", (source_id, day, status)
        assert read == loaded + quarantined, (source_id, day)
    kinds = {s.connector.kind for s in registry.sources}
    assert kinds == {"http", "sql", "file"}

    # what the simulator wrote is what was read
    sim = summary.to_frame()
    written = sim.groupby(["source_id", "day"])["versions"].sum().to_dict()
    for source_id, day, _status, read, _loaded, _q in runs:
        assert read == written[(source_id, day)], (source_id, day)

    loaded_total = sum(r[4] for r in runs)
    history = con.execute("select count(*) from complaint_history").fetchone()[0]
    assert history == loaded_total
    current = con.execute(
        "select count(*), count(distinct source_id || '/' || complaint_id) from complaint_current"
    ).fetchone()
    assert current[0] > 0 and current[0] == current[1]
    # one XCom for the day (summarize_day's, every source's row), none per source
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        xcoms = session.query(XComModel.task_id, XComModel.value).filter(
            XComModel.dag_id == "complaints_daily", XComModel.run_id == run.run_id
        )
        by_task = {task_id: value for task_id, value in xcoms}
    assert not [t for t in by_task if t.startswith("ingest_")], sorted(by_task)
    assert "summarize_day" in by_task

    # the day's quality results are rendered by their own DAG, off the day's critical path
    from complaints.quality import data_docs_index

    docs = data_docs_index(settings.data_dir / "gx")
    assert not docs.exists()
    for day in (DAY1, DAY2):
        run = dags["complaints_quality_docs"].test(run_conf={"day": day.isoformat()})
        assert str(run.state) == "success"
    html = docs.read_text(encoding="utf-8")
    assert "complaints_values" in html and "kota-3171" in html
    pages = {p.name for p in (docs.parent / "validations" / "complaints_values").iterdir()}
    assert {f"kota-3171_{d.isoformat()}" for d in (DAY1, DAY2)} <= {p[:20] for p in pages}

    # no personal data columns reach the warehouse
    cols = {c[0] for c in con.execute("describe complaint_current").fetchall()}
    assert not cols & {"reporter_nik", "reporter_name", "reporter_phone", "reporter_email"}


def test_metrics_and_reports_follow_the_daily_run(embedded):
    from complaints.warehouse import Warehouse

    settings, registry, _summary, dags = embedded
    for day in (DAY1, DAY2):
        assert str(dags["complaints_daily"].test(run_conf={"day": day.isoformat()}).state) == (
            "success"
        )
    assert str(dags["complaints_metrics"].test(run_conf={"day": DAY2.isoformat()}).state) == (
        "success"
    )
    con = Warehouse(settings).connect()
    month = con.execute(
        "select forwarded, followed_up_pct + in_process_pct + not_followed_up_pct "
        "from national_metrics where period = 'month' and period_start = date '2026-10-01'"
    ).fetchall()
    assert len(month) == 1 and month[0][0] > 0
    assert month[0][1] == pytest.approx(100.0)
    institutions = con.execute(
        "select count(distinct institution_id) from institution_metrics where period = 'month'"
    ).fetchone()[0]
    with_complaints = con.execute(
        "select count(distinct institution_id) from complaint_current "
        "where submitted_at < timestamptz '2026-11-01 00:00:00+07'"
    ).fetchone()[0]
    assert institutions == with_complaints > 0

    # October closes on DAY2: the reports DAG builds the month's reports into the outbox
    assert str(dags["complaints_reports"].test(run_conf={"day": DAY2.isoformat()}).state) == (
        "success"
    )
    month_dir = settings.outbox / "month" / "2026-10-01"
    pdfs = sorted(month_dir.rglob("*.pdf"))
    assert any("nasional" in str(p) for p in pdfs)
    assert len(pdfs) == institutions + 1
    assert (settings.outbox / "index.html").exists()
    assert os.path.getsize(pdfs[0]) > 1000
