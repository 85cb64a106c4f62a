"""A real Airflow for the integration tests: api-server, scheduler, dag-processor, triggerer
(and a Celery worker) as subprocesses over a fresh PostgreSQL metadata database.

Everything lives in a temporary folder (AIRFLOW_HOME, the warehouse, the simulated sources); the
database is created with a unique name and dropped afterwards; every process runs in its own
process group and is terminated (then killed) on the way out, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = Path(sys.executable).with_name("airflow")
PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_database(prefix: str = "complaints_af") -> str:
    import sqlalchemy as sa

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as con:
        con.execute(sa.text(f'create database "{name}"'))
    engine.dispose()
    return name


def drop_database(name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as con:
        con.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    engine.dispose()


@dataclass
class AirflowStack:
    """Configured in __init__, started by start(), always closed by stop()."""

    home: Path
    env: dict[str, str]
    port: int
    database: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- processes --------------------------------------------------------------------
    def run(self, *args: str, timeout: float = 300, check: bool = True):
        out = subprocess.run(
            [str(AIRFLOW), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
        )
        if check and out.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} failed ({out.returncode}):\n"
                f"{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
            )
        return out

    def spawn(self, name: str, *args: str) -> None:
        log = open(self.home / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(
            [str(AIRFLOW), *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we stop it and all its children
        )
        log.close()

    def stop(self, grace: float = 20) -> None:
        for proc in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.processes.values():
            # the group may still hold task or worker children even if the leader is gone
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)

    def log_tails(self, chars: int = 4000) -> str:
        parts = []
        for name in self.processes:
            path = self.home / f"{name}.log"
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(
                f"===== {name} (exit {self.processes[name].poll()}) =====\n{text[-chars:]}"
            )
        return "\n".join(parts)

    def check_alive(self) -> None:
        dead = {n: p.poll() for n, p in self.processes.items() if p.poll() is not None}
        if dead:
            raise RuntimeError(f"Airflow processes exited: {dead}\n{self.log_tails()}")

    # --- REST API ---------------------------------------------------------------------
    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                r = httpx.get(f"{self.url}/api/v2/monitor/health", timeout=5)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            raise TimeoutError(f"api-server not ready after {timeout} s\n{self.log_tails()}")
        r = httpx.get(f"{self.url}/auth/token", timeout=10)
        r.raise_for_status()
        self.token = r.json()["access_token"]

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        r = httpx.request(method, f"{self.url}/api/v2{path}", headers=headers, timeout=30, **kwargs)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {r.status_code}: {r.text[:2000]}")
        return r

    def wait_for_dags(self, dag_ids, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        missing = set(dag_ids)
        while time.monotonic() < deadline:
            self.check_alive()
            found = {
                d["dag_id"] for d in self.api("GET", "/dags", params={"limit": 100}).json()["dags"]
            }
            missing = set(dag_ids) - found
            if not missing:
                errors = self.api("GET", "/importErrors").json()
                assert errors["total_entries"] == 0, errors
                return
            time.sleep(2)
        raise TimeoutError(f"DAGs {missing} not parsed in {timeout} s\n{self.log_tails()}")

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def fail_scheduled_runs(self, dag_id: str, wait: float = 20) -> list[str]:
        """Unpausing a catchup=False DAG creates the latest interval's run: stop it at once.

        The tests trigger the day they simulated; the scheduled run for "yesterday" would only
        compete for the two CPUs of a test machine.
        """
        deadline = time.monotonic() + wait
        failed: list[str] = []
        while time.monotonic() < deadline and not failed:
            for run in self.runs(dag_id, run_type="scheduled"):
                if run["state"] not in ("success", "failed"):
                    self.api(
                        "PATCH",
                        f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}",
                        json={"state": "failed"},
                    )
                failed.append(run["dag_run_id"])
            time.sleep(1)
        return failed

    def trigger(self, dag_id: str, conf: dict, logical_date: str | None = None) -> str:
        body = {"logical_date": logical_date, "conf": conf}
        r = self.api("POST", f"/dags/{dag_id}/dagRuns", json=body)
        return r.json()["dag_run_id"]

    def runs(self, dag_id: str, **params) -> list[dict]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100, **params}).json()[
            "dag_runs"
        ]

    def wait_run(self, dag_id: str, run_id: str | None = None, timeout: float = 180) -> dict:
        """Wait for a run (or, without run_id, the first run of an Asset-triggered DAG) to end."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.check_alive()
            if run_id:
                last = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}").json()
                candidates = [last]
            else:
                candidates = self.runs(dag_id)
                last = candidates
            for run in candidates:
                if run["state"] in ("success", "failed"):
                    return run
            time.sleep(2)
        raise TimeoutError(
            f"{dag_id} {run_id or ''} not done in {timeout} s: {last}\n" + self.log_tails()
        )

    def failures(self, dag_id: str, run_id: str) -> str:
        """Failed tasks of a run with the errors from their logs."""
        lines = []
        for ti in self.task_instances(dag_id, run_id):
            if ti["state"] in ("failed", "upstream_failed"):
                lines.append(
                    f"{ti['task_id']}[{ti.get('rendered_map_index') or ti['map_index']}]"
                    f" {ti['state']}"
                )
                logs = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
                task_dir = logs / f"task_id={ti['task_id']}"
                if ti["map_index"] >= 0:
                    task_dir = task_dir / f"map_index={ti['map_index']}"
                for log in sorted(task_dir.glob("attempt=*.log"))[-1:]:
                    lines += [f"    {e}" for e in _errors(log)]
        return "\n".join(lines)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.api(
            "GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100}
        ).json()["task_instances"]


def _errors(log_path: Path) -> list[str]:
    """The error events of a task log (JSON lines), shortened."""
    import json

    out = []
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("level") == "error":
            details = event.get("error_detail") or [{}]
            last = details[0]
            frame = (last.get("frames") or [{}])[-1]
            out.append(
                f"{event.get('event')}: {last.get('exc_type')}: {last.get('exc_value')}"
                f" at {frame.get('filename')}:{frame.get('lineno')}"
            )
    return out


def stack_env(
    home: Path, data_dir: Path, database: str, port: int, executor: str, extra: dict[str, str]
) -> dict[str, str]:
    """The environment every Airflow process of the stack gets (nothing inherited from AIRFLOW*)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "COMPLAINTS_"))}
    pg = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{database}"
    env = {
        **base,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # plain dates on the CLI (backfill --from-date) mean WIB days, like the timetable's
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Jakarta",
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__FERNET_KEY": "",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API__WORKERS": "1",
        # every process must sign and check the same task tokens
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
        "COMPLAINTS_ENV": "local",
        "COMPLAINTS_DATA_DIR": str(data_dir),
        "COMPLAINTS_REGISTRY": str(ROOT / "include" / "registry" / "sources.small.yaml"),
        "COMPLAINTS_HASH_KEY": secrets.token_hex(32),
        "COMPLAINTS_TASK_RETRIES": "1",
        "COMPLAINTS_RETRY_DELAY_S": "2",
        "PYTHONPATH": str(ROOT / "plugins"),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    env.update(extra)
    return env
