"""`make run`'s output keeps the project's warnings and Airflow's own deprecations, but not the two
deprecations inside Airflow 3.3.2's imports that every run printed (``local.UPSTREAM_WARNINGS``)."""

from __future__ import annotations

import subprocess
import sys

EMIT = """
import warnings
from starlette.exceptions import StarletteDeprecationWarning  # a UserWarning: shown by default
from complaints.orchestration import local
local._quiet_upstream_warnings()
for module, message, category in [
    ("airflow.sdk._shared.module_loading.file_discovery",
     "GitWildMatchPattern ('gitwildmatch') is deprecated. Use 'gitignore' instead.",
     DeprecationWarning),
    ("fastapi.testclient",
     "Using `httpx` with `starlette.testclient` is deprecated; install `httpx2` instead.",
     StarletteDeprecationWarning),
    ("airflow.models.dag", "another Airflow deprecation stays visible", DeprecationWarning),
    ("fastapi.testclient", "another Starlette warning stays visible", StarletteDeprecationWarning),
]:
    warnings.warn_explicit(message, category, module + ".py", 1, module=module)
"""


def test_the_embedded_run_hides_only_the_upstream_deprecations():
    # a fresh interpreter: the filters as a run has them (Airflow's configuration adds its own)
    done = subprocess.run(
        [sys.executable, "-c", EMIT], capture_output=True, text=True, timeout=120, check=True
    )
    shown = done.stdout + done.stderr  # Airflow logs warnings (structlog, to stdout)
    assert "another Airflow deprecation stays visible" in shown
    assert "another Starlette warning stays visible" in shown
    assert "gitwildmatch" not in shown
    assert "httpx2" not in shown
