"""The embedded default: a real Airflow on SQLite under var/, no scheduler, simulated sources.

`run_embedded` is what `make run` calls. It prepares an Airflow home under the project's data
folder, simulates the sources for the demo days, serves the simulated API on loopback, and runs
`complaints_daily`, `complaints_metrics`, `complaints_reports` and `complaints_quality_docs` with
``dag.test()`` for each day, in the order the Assets would trigger them in a deployment.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
import time
import warnings
from datetime import date, timedelta
from pathlib import Path

from complaints.config import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

#: in the order a deployment's asset triggers run them after the day is ingested
DAGS = ("complaints_daily", "complaints_metrics", "complaints_reports", "complaints_quality_docs")


#: deprecations inside Airflow 3.3.2's own imports (its file discovery's pathspec pattern, the
#: in-process API's test client), printed on every run and nothing its user can act on
UPSTREAM_WARNINGS = (
    r"GitWildMatchPattern \('gitwildmatch'\) is deprecated",
    r"Using `httpx` with `starlette\.testclient` is deprecated",
)


def airflow_env(settings: Settings) -> dict[str, str]:
    """Environment for an embedded Airflow rooted in the data folder (SQLite metadata DB)."""
    return airflow_env_for(settings.data_dir / "airflow")


def airflow_env_for(home: Path) -> dict[str, str]:
    """An Airflow home with this project's DAGs and plugins and a SQLite metadata DB in it."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get(
            "COMPLAINTS_AIRFLOW_LOG_LEVEL", "WARNING"
        ),
    }


def prepare_airflow(settings: Settings) -> None:
    """Set the environment and migrate the metadata DB (once; later runs reuse it).

    dag.test() waits out retry delays in-process, so the embedded run retries once, quickly.
    """
    env = airflow_env(settings)
    os.environ.setdefault("COMPLAINTS_TASK_RETRIES", "1")
    os.environ.setdefault("COMPLAINTS_RETRY_DELAY_S", "2")
    # see alerts.publication_deadline_alert: dag.test() cannot end a run with a DeadlineAlert
    os.environ.setdefault("COMPLAINTS_PUBLISH_DEADLINE", "off")
    # dag.test() runs tasks in this process, which may start PDF-rendering workers
    os.environ.setdefault("COMPLAINTS_REPORT_WORKERS", str(os.cpu_count() or 1))
    os.environ.update(env)
    _quiet_upstream_warnings()
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    marker = home / ".migrated-3.3.2"
    if not marker.exists():
        airflow = Path(sys.executable).with_name("airflow")
        subprocess.run(
            [str(airflow), "db", "migrate"],
            check=True,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
        )
        marker.touch()
    _ensure_pools()


def _quiet_upstream_warnings() -> None:
    """Ignore ``UPSTREAM_WARNINGS``, after Airflow's configuration has put its own filter
    (show DeprecationWarnings from airflow's modules) in front of the list."""
    import airflow.configuration  # noqa: F401 - its import adds that filter

    for message in UPSTREAM_WARNINGS:
        warnings.filterwarnings("ignore", message=message)


def _ensure_pools() -> None:
    from airflow.models.pool import Pool

    from complaints.orchestration.policy import POOLS

    for name, (slots, description) in POOLS.items():
        Pool.create_or_update_pool(name, slots, description, include_deferred=False)


def load_dag(dag_id: str):
    """Parse one DAG file from dags/ (file name = dag id) the way the dag-processor does.

    The DAG files call their ``@dag`` function without binding the result to a name (Airflow
    registers it), so the file is parsed with a DagBag rather than searched for module globals.
    """
    from airflow.dag_processing.dagbag import DagBag

    path = PROJECT_ROOT / "dags" / f"{dag_id}.py"
    bag = DagBag(dag_folder=str(path), safe_mode=False)
    if bag.import_errors:
        raise ImportError(f"{path} does not import: {bag.import_errors}")
    if dag_id not in bag.dags:
        raise LookupError(f"{path} defines no DAG {dag_id!r}")
    return bag.dags[dag_id]


def run_day_dags(day: date, dags: dict) -> dict[str, str]:
    """One day as a deployment would run it: ingest, then metrics, reports and Data Docs."""
    states = {}
    for dag_id in DAGS:
        dag_run = dags[dag_id].test(run_conf={"day": day.isoformat()})
        states[dag_id] = str(getattr(dag_run, "state", dag_run))
    return states


def local_connections(settings: Settings, api_url: str, token: str) -> dict[str, str]:
    """Connections the simulated sources need, as AIRFLOW_CONN_* URIs."""
    scheme, rest = api_url.split("://", 1)
    return {
        "AIRFLOW_CONN_LAPOR_API": f"{scheme}://:{token}@{rest}",
        "AIRFLOW_CONN_REGIONAL_DB": settings.sim_sql_url,
    }


def run_embedded(start: date, end: date, *, scale: float = 1.0, seed: int = 42) -> str:
    """Simulate, ingest, compute and report every day in [start, end]; return a summary text."""
    from complaints.orchestration.report_summary import final_summary
    from complaints.pipeline import registry_for
    from complaints.simulate import serve_api, simulate

    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    registry = registry_for(settings)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    t0 = time.perf_counter()
    print(f"simulating {len(registry.sources)} sources for {start} .. {end}", flush=True)
    simulate(settings, registry.sources, start, end, seed=seed, scale=scale)
    token = os.environ.get("COMPLAINTS_SIM_API_TOKEN") or secrets.token_hex(16)
    with serve_api(settings, token=token) as api:
        os.environ.update(local_connections(settings, api.base_url, token))
        prepare_airflow(settings)
        dags = {dag_id: load_dag(dag_id) for dag_id in DAGS}
        for day in days:
            t_day = time.perf_counter()
            states = run_day_dags(day, dags)
            print(
                f"{day}: "
                + ", ".join(f"{k}={v}" for k, v in states.items())
                + f" ({time.perf_counter() - t_day:.0f} s)",
                flush=True,
            )
    return final_summary(settings, days, time.perf_counter() - t0)
