"""Real services for integration tests: skip with the reason where absent, or fail in CI.

With COMPLAINTS_REQUIRE_SERVICES=1 (set by .ci/run) a missing service fails the test instead of
skipping it, so CI never passes by skipping. Import it as ``from service_check import
require_service`` (tests/ is on sys.path via tests/conftest.py).
"""

from __future__ import annotations

import os
import socket

import pytest

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


def drop_database(admin, kind: str, name: str) -> None:
    """Drop a test's own PostgreSQL (``kind`` "postgres") or MariaDB database and dispose of the
    admin engine (a SQLAlchemy Engine)."""
    import sqlalchemy as sa

    with admin.connect() as c:
        if kind == "postgres":
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    admin.dispose()
