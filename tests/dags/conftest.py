"""An isolated Airflow for the DAG tests: its own home and SQLite metadata DB in a temp folder.

The environment is set when this file is imported, before anything imports Airflow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from complaints.orchestration.local import airflow_env_for

ROOT = Path(__file__).resolve().parents[2]
_HOME = Path(tempfile.mkdtemp(prefix="complaints-airflow-"))
os.environ.update(
    {
        **airflow_env_for(_HOME),
        # dag.test() waits out retry delays in-process: retry once, quickly
        "COMPLAINTS_TASK_RETRIES": "1",
        "COMPLAINTS_RETRY_DELAY_S": "1",
    }
)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrate the test metadata DB once per session."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, stdout=subprocess.DEVNULL)
    return _HOME


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))
