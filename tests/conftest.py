"""Shared test fixtures.

Service tests use the real PostgreSQL, MariaDB, Redis and RabbitMQ on this machine. Where a
service is not reachable they skip with the reason; with COMPLAINTS_REQUIRE_SERVICES=1 (set by
.ci/run) that skip becomes a failure, so CI never passes by skipping.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "tests"))  # test helpers: service_check

from service_check import SERVICES, require_service  # noqa: E402,F401  (re-exported)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings for the embedded default, rooted in a temporary folder."""
    from complaints.config import Settings

    monkeypatch.setenv("COMPLAINTS_ENV", "local")
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path / "var"))
    for name in ("COMPLAINTS_WAREHOUSE", "COMPLAINTS_OUTBOX", "COMPLAINTS_SOURCES_DIR"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env()


def pytest_configure(config):
    """The upstream deprecations the embedded run hides (``local.UPSTREAM_WARNINGS``) are not
    the tests' business either: one of them (Starlette's, a UserWarning) showed in the summary
    whenever a test happened to be the first to import FastAPI's test client."""
    from complaints.orchestration.local import UPSTREAM_WARNINGS

    for message in UPSTREAM_WARNINGS:
        config.addinivalue_line("filterwarnings", f"ignore:{message}")
