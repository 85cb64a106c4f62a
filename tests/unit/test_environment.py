"""The pinned environment: every direct dependency at an exact version, covered by the
constraints file, and `pip check` clean (Airflow is an application; unpinned installs break it)."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]+\])?==([^\s;]+)", line)
        assert m, f"{path.name}: {line!r} is not pinned with =="
        pins[m.group(1).lower().replace("_", "-")] = m.group(3)
    return pins


def test_pip_check_is_clean():
    out = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_requirement_is_pinned_and_constrained_alike():
    requirements = _pins(ROOT / "requirements.txt")
    constraints = _pins(ROOT / "constraints.txt")
    assert requirements["apache-airflow"] == "3.3.2"
    assert requirements["great-expectations"].startswith("1.")
    for name, version in requirements.items():
        assert constraints.get(name) == version, f"{name}: {version} vs {constraints.get(name)}"


def test_installed_versions_match_the_constraints():
    constraints = _pins(ROOT / "constraints.txt")
    for name in (
        "apache-airflow",
        "great-expectations",
        "pandas",
        "pyarrow",
        "duckdb",
        "sqlalchemy",
        "celery",
    ):
        assert metadata.version(name) == constraints[name], name
