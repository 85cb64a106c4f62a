"""complaints_daily -> complaints_metrics -> complaints_reports (and complaints_quality_docs) on a
real Airflow.

Real api-server, scheduler, dag-processor and triggerer processes (plus a Celery worker for
CeleryExecutor) over a fresh PostgreSQL metadata database; the small registry's six sources are
simulated (HTTP API on loopback, SQLite, drop files). The daily run is triggered through the
REST API; the metrics and reports runs must follow by themselves through the Assets.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from datetime import date

import pytest
from airflow_stack import AirflowStack, create_database, drop_database, free_port, stack_env
from service_check import require_service

pytestmark = [pytest.mark.slow, pytest.mark.service]

DAY = date(2026, 10, 31)  # the last day of October: the month's reports are built
DAGS = ("complaints_daily", "complaints_metrics", "complaints_reports", "complaints_quality_docs")
SOURCES = {"prov-31", "kemendagri-dukcapil", "kota-3171", "kota-7371", "kab-5102", "kemendagri"}
FAILING = "kemendagri-dukcapil"  # an http source whose server answers 500 to every request


@pytest.fixture
def smtp_server():
    import email
    import email.policy

    from aiosmtpd.controller import Controller

    received: list = []

    class Collect:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook
            received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 OK"

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


def _celery_executor_importable() -> None:
    """Fail at once, with the cause, when the pinned celery cannot load Airflow's Celery executor.

    (celery 5.7 dropped ``celery.backends.database.retry``, which apache-airflow-providers-celery
    3.26 imports: the pins must keep celery below 5.7 until the provider follows.)
    """
    try:
        import airflow.providers.celery.executors.celery_executor_utils  # noqa: F401
    except ImportError as exc:
        from importlib.metadata import version

        pytest.fail(
            f"CeleryExecutor cannot be loaded with the pinned environment (celery=="
            f"{version('celery')}, apache-airflow-providers-celery=="
            f"{version('apache-airflow-providers-celery')}): {exc}"
        )


def _start_stack(tmp_path, executor: str, *, fail_sources=(), smtp_port=None):
    """Generator body shared by the fixtures: simulate, serve, start Airflow, yield, clean up."""
    from complaints.config import Settings
    from complaints.orchestration.local import local_connections
    from complaints.orchestration.policy import POOLS
    from complaints.pipeline import registry_for
    from complaints.simulate import serve_api, simulate

    require_service("postgres")
    extra: dict[str, str] = {}
    if executor == "CeleryExecutor":
        require_service("redis")
        _celery_executor_importable()
        redis_db = random.randint(6, 15)
    home, data_dir = tmp_path / "airflow", tmp_path / "var"
    home.mkdir()
    database = create_database()
    port = free_port()
    if executor == "CeleryExecutor":
        extra["AIRFLOW__CELERY__BROKER_URL"] = f"redis://127.0.0.1:6379/{redis_db}"
        extra["AIRFLOW__CELERY__RESULT_BACKEND"] = (
            f"db+postgresql://postgres@127.0.0.1:5432/{database}"
        )
        extra["AIRFLOW__CELERY__WORKER_LOG_SERVER_PORT"] = str(free_port())
    if smtp_port:
        extra["AIRFLOW_CONN_SMTP_DEFAULT"] = f"smtp://127.0.0.1:{smtp_port}"
        extra["COMPLAINTS_ALERT_EMAILS"] = "data-eng@example.id"
    env = stack_env(home, data_dir, database, port, executor, extra)
    stack = AirflowStack(home=home, env=env, port=port, database=database)

    # the sources, simulated in this process with the stack's settings
    mp = pytest.MonkeyPatch()
    for key in (
        "COMPLAINTS_DATA_DIR",
        "COMPLAINTS_REGISTRY",
        "COMPLAINTS_HASH_KEY",
        "COMPLAINTS_ENV",
    ):
        mp.setenv(key, env[key])
    for key in ("COMPLAINTS_WAREHOUSE", "COMPLAINTS_OUTBOX", "COMPLAINTS_SOURCES_DIR"):
        mp.delenv(key, raising=False)
    settings = Settings.from_env()
    simulate(settings, registry_for(settings).sources, DAY, DAY, seed=11, scale=0.5)
    token = secrets.token_hex(16)
    api = serve_api(settings, token=token, fail_sources=fail_sources).start()
    try:
        env.update(local_connections(settings, api.base_url, token))
        t0 = time.perf_counter()
        stack.run("db", "migrate")
        pools = home / "pools.json"
        pools.write_text(
            json.dumps(
                {
                    name: {"slots": slots, "description": desc, "include_deferred": False}
                    for name, (slots, desc) in POOLS.items()
                }
            )
        )
        stack.run("pools", "import", str(pools))
        stack.spawn("api-server", "api-server", "--host", "127.0.0.1", "--port", str(port))
        stack.spawn("scheduler", "scheduler")
        stack.spawn("dag-processor", "dag-processor")
        stack.spawn("triggerer", "triggerer")
        if executor == "CeleryExecutor":
            stack.spawn(
                "celery-worker",
                "celery",
                "worker",
                "--concurrency",
                "8",
                "--without-gossip",
                "--without-mingle",
            )
        stack.wait_ready()
        stack.wait_for_dags(DAGS)
        for dag_id in DAGS:
            stack.unpause(dag_id)
        stack.fail_scheduled_runs("complaints_daily")
        stack.startup_s = time.perf_counter() - t0
        yield stack, settings
    finally:
        try:
            stack.stop()
        finally:
            api.stop()
            mp.undo()
            drop_database(database)


@pytest.fixture
def local_stack(tmp_path):
    yield from _start_stack(tmp_path, "LocalExecutor")


@pytest.fixture
def celery_stack(tmp_path):
    yield from _start_stack(tmp_path, "CeleryExecutor")


@pytest.fixture
def failing_stack(tmp_path, smtp_server):
    port, received = smtp_server
    stack_gen = _start_stack(tmp_path, "LocalExecutor", fail_sources=[FAILING], smtp_port=port)
    stack, settings = next(stack_gen)
    try:
        yield stack, settings, received
    finally:
        stack_gen.close()  # runs the stack's own cleanup


def _run_the_day(stack: AirflowStack) -> dict:
    """Trigger the day through the REST API and wait for the four DAGs; return their runs."""
    run_id = stack.trigger("complaints_daily", {"day": DAY.isoformat()})
    daily = stack.wait_run("complaints_daily", run_id, timeout=300)
    if daily["state"] != "success":  # say which task failed and why, do not wait for the rest
        pytest.fail(
            f"complaints_daily {daily['state']}:\n{stack.failures('complaints_daily', run_id)}"
        )
    metrics = stack.wait_run("complaints_metrics", timeout=180)
    reports = stack.wait_run("complaints_reports", timeout=180)
    docs = stack.wait_run("complaints_quality_docs", timeout=180)
    return {"daily": daily, "metrics": metrics, "reports": reports, "quality_docs": docs}


def _wib_days(runs: list[dict]) -> list[str]:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    wib = ZoneInfo("Asia/Jakarta")
    return sorted(
        datetime.fromisoformat(r["data_interval_start"].replace("Z", "+00:00"))
        .astimezone(wib)
        .date()
        .isoformat()
        for r in runs
    )


def _warehouse(settings):
    from complaints.warehouse import Warehouse

    return Warehouse(settings).connect()


def _assert_day_published(settings, failed: set[str] = frozenset()) -> None:
    con = _warehouse(settings)
    try:
        runs = dict(
            con.execute(
                "select source_id, status from ingest_runs where day = ? "
                "qualify row_number() over (partition by source_id order by finished_at desc) = 1",
                [DAY],
            ).fetchall()
        )
        assert set(runs) == SOURCES, runs
        assert {s for s, st in runs.items() if st == "failed"} == failed, runs
        assert {s for s, st in runs.items() if st == "published"} == SOURCES - failed, runs
        assert con.execute("select count(*) from complaint_current").fetchone()[0] > 0
        # only Saturday 31 Oct is simulated: its complaints are counted, none forwarded yet
        month = con.execute(
            "select total, sources_failed from national_metrics "
            "where period = 'month' and period_start = date '2026-10-01'"
        ).fetchall()
    finally:
        con.close()
    assert len(month) == 1 and month[0][0] > 0, month
    if failed:
        assert month[0][1] >= len(failed), month
    national = [
        p for p in (settings.outbox / "month" / "2026-10-01").rglob("*.pdf") if "nasional" in str(p)
    ]
    assert national, f"no national PDF under {settings.outbox}"


def test_local_executor_runs_the_day_and_backfills(local_stack):
    stack, settings = local_stack
    t0 = time.perf_counter()
    runs = _run_the_day(stack)
    assert runs["daily"]["state"] == "success", runs
    assert runs["metrics"]["state"] == "success", runs
    assert runs["reports"]["state"] == "success", runs
    assert runs["quality_docs"]["state"] == "success", runs
    assert runs["metrics"]["run_type"] == runs["quality_docs"]["run_type"] == "asset_triggered"
    _assert_day_published(settings)
    from complaints.quality import data_docs_index

    html = data_docs_index(settings.data_dir / "gx").read_text(encoding="utf-8")
    assert all(source in html for source in SOURCES), html[:500]
    tis = stack.task_instances("complaints_daily", runs["daily"]["dag_run_id"])
    ingests = {
        t["rendered_map_index"]: t["state"] for t in tis if t["task_id"].startswith("ingest")
    }
    assert ingests == {s: "success" for s in SOURCES}
    day_s = time.perf_counter() - t0

    # backfill three days with the timetable; the runs are created, then cancelled
    out = stack.run(
        "backfill",
        "create",
        "--dag-id",
        "complaints_daily",
        "--from-date",
        "2026-10-01",
        "--to-date",
        "2026-10-03",
        "--max-active-runs",
        "1",
    )
    backfills = stack.api("GET", "/backfills", params={"dag_id": "complaints_daily"}).json()
    [backfill] = backfills["backfills"]
    stack.api("PUT", f"/backfills/{backfill['id']}/cancel")
    created = stack.runs("complaints_daily", run_type="backfill")
    assert len(created) == 3, (out.stdout[-2000:], created)
    assert _wib_days(created) == ["2026-10-01", "2026-10-02", "2026-10-03"]
    print(f"\nLocalExecutor: startup {stack.startup_s:.0f} s, day end to end {day_s:.0f} s")


def test_celery_executor_runs_the_day(celery_stack):
    stack, settings = celery_stack
    t0 = time.perf_counter()
    runs = _run_the_day(stack)
    assert {k: r["state"] for k, r in runs.items()} == dict.fromkeys(runs, "success"), runs
    _assert_day_published(settings)
    print(
        f"\nCeleryExecutor: startup {stack.startup_s:.0f} s, "
        f"day end to end {time.perf_counter() - t0:.0f} s"
    )


def test_a_source_down_all_day_fails_alone_and_alerts(failing_stack):
    stack, settings, received = failing_stack
    # logical date = the day's WIB midnight: its deadline (next morning 07:00 WIB) is long past,
    # so the scheduler marks it missed and the triggerer runs the DeadlineAlert's callback
    run_id = stack.trigger(
        "complaints_daily", {"day": DAY.isoformat()}, logical_date="2026-10-30T17:00:00Z"
    )
    daily = stack.wait_run("complaints_daily", run_id, timeout=300)
    tis = stack.task_instances("complaints_daily", run_id)
    ingests = {t["rendered_map_index"]: t for t in tis if t["task_id"].startswith("ingest")}
    assert ingests[FAILING]["state"] == "failed", ingests[FAILING]
    assert ingests[FAILING]["try_number"] == 2  # one retry, then the alert

    # two alerts: the source's failure (naming source, day and the task's log) and the deadline
    deadline = time.monotonic() + 60
    while len(received) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    failed_subject = f"[complaints] source {FAILING} failed for {DAY.isoformat()}"
    late_subject = "[complaints] complaints_daily missed its publication deadline"
    subjects = [m["Subject"] for m in received]
    failed = [m for m in received if m["Subject"] == failed_subject]
    late = [m for m in received if m["Subject"] == late_subject and run_id in m.get_content()]
    assert len(failed) == len(late) == 1, subjects
    # anything else can only be the deadline of the run the scheduler created on unpause (failed
    # by the fixture): its deadline, 07:00 WIB after its day, has passed from 00:00 to 17:00 UTC
    others = [m for m in received if m not in failed + late]
    assert all(m["Subject"] == late_subject for m in others), subjects
    assert len(others) <= 1, subjects
    body = failed[0].get_content()
    assert FAILING in body and "/dags/complaints_daily/runs/" in body
    assert failed[0]["To"] == "data-eng@example.id"
    token = stack.env["AIRFLOW_CONN_LAPOR_API"].split("@")[0].rsplit(":", 1)[1]
    assert token not in body

    # the other sources are published and the day goes on without it
    others = {s: t["state"] for s, t in ingests.items() if s != FAILING}
    assert others == dict.fromkeys(SOURCES - {FAILING}, "success"), stack.failures(
        "complaints_daily", run_id
    )
    # the failed ingest task is not a leaf: summarize_day (all_done) ends the run
    assert daily["state"] == "success", stack.failures("complaints_daily", run_id)
    assert stack.wait_run("complaints_metrics", timeout=180)["state"] == "success"
    assert stack.wait_run("complaints_reports", timeout=180)["state"] == "success"
    _assert_day_published(settings, failed={FAILING})


def test_backfill_dates_are_wib_days(tmp_path):
    """`airflow backfill create --from-date 2026-10-01 --to-date 2026-10-03` plans the three WIB
    days with the daily timetable (core.default_timezone Asia/Jakarta, as in the deployment)."""
    home = tmp_path / "airflow"
    home.mkdir()
    env = stack_env(home, tmp_path / "var", "unused", free_port(), "LocalExecutor", {})
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home / 'airflow.db'}"
    stack = AirflowStack(home=home, env=env, port=0, database="unused")
    stack.run("db", "migrate")
    stack.run("dags", "reserialize")
    out = stack.run(
        "backfill",
        "create",
        "--dag-id",
        "complaints_daily",
        "--from-date",
        "2026-10-01",
        "--to-date",
        "2026-10-03",
        "--dry-run",
    ).stdout
    planned = [line for line in out.splitlines() if line.startswith("| 2026")]
    assert len(planned) == 3, out
    assert "2026-10-01 00:00:00+07:00" in out or "2026-09-30 17:00:00+00:00" in out, out
