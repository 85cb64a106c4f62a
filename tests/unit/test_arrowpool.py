"""The ingest's Arrow allocator (complaints.arrowpool): jemalloc unless the environment names one.

The pool is process-wide, so each case runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, pyarrow as pa
before = pa.default_memory_pool().backend_name
from complaints.arrowpool import use_preferred_pool
first = use_preferred_pool()
second = use_preferred_pool()
table = pa.table({"n": list(range(100_000)), "s": [str(i) for i in range(100_000)]})
print(json.dumps({
    "before": before, "first": first, "second": second,
    "now": pa.default_memory_pool().backend_name,
    "allocated": pa.default_memory_pool().bytes_allocated(),
    "rows": table.num_rows,
}))
"""

INGEST = """
import datetime as dt, json, sys
import pyarrow as pa
from complaints.pipeline import ingest_source
before = pa.default_memory_pool().backend_name
run = ingest_source("kab-5102", dt.date.fromisoformat(sys.argv[1]))
print(json.dumps({"before": before, "now": pa.default_memory_pool().backend_name,
                  "status": run["status"]}))
"""

needs_jemalloc = pytest.mark.skipif(
    "jemalloc" not in pa.supported_memory_backends(),
    reason="this pyarrow build has no jemalloc pool (the default pool is kept)",
)


def _child(
    script: str, *args: str, pool: str | None = None, extra_path: Path | None = None
) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (ROOT / "plugins", extra_path) if p)
    if pool is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = pool
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


@needs_jemalloc
def test_jemalloc_becomes_the_default_pool_and_takes_the_new_buffers():
    found = _child(PROBE)
    assert found["before"] != "jemalloc"  # pyarrow's own default (mimalloc on Linux)
    assert found["first"] == found["second"] == found["now"] == "jemalloc"
    assert found["allocated"] > 100_000 * 8  # the table after the switch lives in jemalloc
    assert found["rows"] == 100_000


@pytest.mark.parametrize("pool", ["system", "mimalloc"])
def test_a_pool_named_in_the_environment_is_left_alone(pool):
    if pool not in pa.supported_memory_backends():
        pytest.skip(f"this pyarrow build has no {pool} pool")
    found = _child(PROBE, pool=pool)
    assert found["before"] == found["first"] == found["second"] == found["now"] == pool


@needs_jemalloc
def test_an_ingest_switches_its_process_to_jemalloc(settings, monkeypatch):
    from complaints.config import Settings
    from complaints.pipeline import registry_for
    from complaints.simulate import simulate

    monkeypatch.setenv("COMPLAINTS_REGISTRY", str(ROOT / "include/registry/sources.small.yaml"))
    settings = Settings.from_env()
    day = date(2026, 10, 30)
    simulate(settings, [registry_for(settings).source("kab-5102")], day, day, seed=5, scale=0.3)
    found = _child(INGEST, day.isoformat())
    assert found["before"] != "jemalloc"
    assert found["now"] == "jemalloc"
    assert found["status"] == "published"


PUBLISH = """
import datetime as dt, json, sys
import pyarrow as pa
from complaints.config import Settings
from complaints.warehouse import Warehouse
import test_warehouse_support as s
before = pa.default_memory_pool().backend_name
day = dt.date(2026, 10, 6)
wh = Warehouse(Settings.from_env(), root=sys.argv[1])
s.publish(wh, day, [s.version("c1", "verified", s.ts(day))], "r1")
print(json.dumps({"before": before, "now": pa.default_memory_pool().backend_name,
                  "current": [r["complaint_id"] for r in s.current(wh)]}))
"""


@needs_jemalloc
def test_a_publish_alone_switches_its_process_to_jemalloc(settings, tmp_path):
    """A backfill or a benchmark that publishes without ingesting allocates as an ingest does."""
    found = _child(PUBLISH, str(tmp_path / "wh"), extra_path=ROOT / "tests" / "unit")
    assert found["before"] != "jemalloc"
    assert found["now"] == "jemalloc"
    assert found["current"] == ["c1"]
