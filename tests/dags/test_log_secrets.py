"""No secret reaches a log: complaints_daily with dag.test() on connections holding known secrets.

The small registry is simulated for one day; the API's bearer token, a password on the regional
database connection (SQLite through ``extra.sqlalchemy_url``, the password field set all the
same) and the hashing key (COMPLAINTS_HASH_KEY, hex) are known values. After the run, every file
Airflow wrote under AIRFLOW_HOME/logs, the metadata DB, and everything printed to stdout/stderr
are searched for them (``leakscan``, which also decodes compressed files).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from complaints.config import INCLUDE_DIR

pytestmark = pytest.mark.slow

DAY = date(2026, 10, 30)
TOKEN = "tok-4f9b2c7e1d0a8b3c"
SQL_PASSWORD = "pw-SqlR3gional-93e1"
HASH_KEY = "5eed" * 16  # 32 bytes, hex
SECRETS = (TOKEN, SQL_PASSWORD, HASH_KEY)


@pytest.fixture
def secret_run(settings, monkeypatch, airflow_db, tmp_path, capfd, caplog):
    from complaints.config import Settings
    from complaints.orchestration.local import load_dag
    from complaints.pipeline import registry_for
    from complaints.simulate import serve_api, simulate

    monkeypatch.setenv("COMPLAINTS_REGISTRY", str(INCLUDE_DIR / "registry" / "sources.small.yaml"))
    monkeypatch.setenv("COMPLAINTS_HASH_KEY", HASH_KEY)
    monkeypatch.setenv("COMPLAINTS_PUBLISH_DEADLINE", "off")  # dag.test() cannot end such runs
    settings = Settings.from_env()
    registry = registry_for(settings)
    simulate(settings, registry.sources, DAY, DAY, seed=3, scale=0.5)
    caplog.set_level(logging.DEBUG)
    with serve_api(settings, token=TOKEN) as api:
        scheme, rest = api.base_url.split("://", 1)
        monkeypatch.setenv("AIRFLOW_CONN_LAPOR_API", f"{scheme}://:{TOKEN}@{rest}")
        monkeypatch.setenv(
            "AIRFLOW_CONN_REGIONAL_DB",
            json.dumps({"conn_type": "sqlite", "login": "reader", "password": SQL_PASSWORD,
                        "extra": {"sqlalchemy_url": settings.sim_sql_url}}),
        )  # fmt: skip
        dag = load_dag("complaints_daily")
        run = dag.test(run_conf={"day": DAY.isoformat()})
    out, err = capfd.readouterr()
    captured = tmp_path / "captured"
    captured.mkdir()
    (captured / "stdout.txt").write_text(out, encoding="utf-8")
    (captured / "stderr.txt").write_text(err, encoding="utf-8")
    (captured / "caplog.txt").write_text(caplog.text, encoding="utf-8")
    return settings, registry, run, airflow_db, captured


def test_no_secret_in_task_logs_or_output(secret_run):
    from complaints.leakscan import scan_paths
    from complaints.simulate.api_server import api_path
    from complaints.warehouse import Warehouse

    settings, registry, run, home, captured = secret_run
    assert str(run.state) == "success"

    # the secrets were in use: the API answered the token, the SQLite source was read, and
    # reporter keys are HMACs under the known key
    con = Warehouse(settings).connect()
    try:
        by_kind = dict(con.execute(
            "SELECT connector_kind, sum(rows_read) FROM ingest_runs WHERE day = ? "
            "GROUP BY connector_kind", [DAY],
        ).fetchall())  # fmt: skip
        keys = {k for (k,) in con.execute(
            "SELECT DISTINCT reporter_key FROM complaint_current WHERE reporter_key IS NOT NULL"
        ).fetchall()}  # fmt: skip
    finally:
        con.close()
    assert by_kind.get("http", 0) > 0 and by_kind.get("sql", 0) > 0, by_kind
    with sqlite3.connect(api_path(settings)) as db:
        niks = [json.loads(j)["reporter_nik"] for (j,) in db.execute("SELECT json FROM versions")]
    expected = {
        hmac.new(bytes.fromhex(HASH_KEY), n.encode(), hashlib.sha256).hexdigest()
        for n in niks if n
    }  # fmt: skip
    # (a quarantined version's key is not in complaint_current)
    assert expected and len(expected & keys) > 0.9 * len(expected)

    logs = Path(home) / "logs"
    log_files = [p for p in logs.rglob("*") if p.is_file()] if logs.exists() else []
    texts = [p for p in captured.iterdir() if p.stat().st_size]
    assert log_files or texts, "the run wrote task logs or printed something to search"
    leaks = scan_paths([logs, captured], list(SECRETS))
    assert leaks == [], "\n".join(str(leak) for leak in leaks)
