"""One place for the operational policy every DAG shares (a test enforces it)."""

from __future__ import annotations

from datetime import timedelta

OWNER = "data-engineering"
CONNECTOR_KINDS = ("http", "sql", "file")
#: one pool per connector kind, so a deployment throttles each kind on its own
POOLS = {
    "connector_http": (16, "LAPOR! API and institution HTTP endpoints"),
    "connector_sql": (8, "regional complaint databases"),
    "connector_file": (8, "drop folders"),
}

DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": 3,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(minutes=30),
}


def pool_for(kind: str) -> str:
    return f"connector_{kind}"
