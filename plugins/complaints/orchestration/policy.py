"""One place for the operational policy every DAG shares (a test enforces it)."""

from __future__ import annotations

import os
from datetime import timedelta

OWNER = "data-engineering"
CONNECTOR_KINDS = ("http", "sql", "file")
#: one pool per connector kind, so a deployment throttles each kind on its own
POOLS = {
    "connector_http": (16, "LAPOR! API and institution HTTP endpoints"),
    "connector_sql": (8, "regional complaint databases"),
    "connector_file": (8, "drop folders"),
}


def _env_int(name: str, default: int, minimum: int) -> int:
    """An integer knob from the environment (read at parse time, no I/O)."""
    value = os.environ.get(name)
    return max(minimum, int(value)) if value else default


#: a deployment keeps the defaults; tests (and a hurried operator) can shorten them:
#: COMPLAINTS_TASK_RETRIES (>= 1) and COMPLAINTS_RETRY_DELAY_S
DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": _env_int("COMPLAINTS_TASK_RETRIES", 3, minimum=1),
    "retry_delay": timedelta(seconds=_env_int("COMPLAINTS_RETRY_DELAY_S", 120, minimum=1)),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(minutes=30),
}


def pool_for(kind: str) -> str:
    return f"connector_{kind}"
