"""Shared test fixtures.

Service tests use the real PostgreSQL, MariaDB, Redis and RabbitMQ on this machine. Where a
service is not reachable they skip with the reason; with COMPLAINTS_REQUIRE_SERVICES=1 (set by
.ci/run) that skip becomes a failure, so CI never passes by skipping.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

SERVICES = {
    "postgres": ("127.0.0.1", 5432),
    "mariadb": ("127.0.0.1", 3306),
    "redis": ("127.0.0.1", 6379),
    "rabbitmq": ("127.0.0.1", 5672),
}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str) -> tuple[str, int]:
    """Skip (or fail under COMPLAINTS_REQUIRE_SERVICES=1) when the service is not reachable."""
    host, port = SERVICES[name]
    if not _reachable(host, port):
        reason = f"{name} is not reachable on {host}:{port}"
        if os.environ.get("COMPLAINTS_REQUIRE_SERVICES") == "1":
            pytest.fail(reason + " and COMPLAINTS_REQUIRE_SERVICES=1 requires it")
        pytest.skip(reason)
    return host, port


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings for the embedded default, rooted in a temporary folder."""
    from complaints.config import Settings

    monkeypatch.setenv("COMPLAINTS_ENV", "local")
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path / "var"))
    for name in ("COMPLAINTS_WAREHOUSE", "COMPLAINTS_OUTBOX", "COMPLAINTS_SOURCES_DIR"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env()
