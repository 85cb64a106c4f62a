"""Kill the move of complaint_current out of a folder-per-source layout at every step: after
recover() each source is wholly in the old or wholly in the new place, and finishing the move
gives the warehouse it was before, row for row."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from complaints.warehouse import Warehouse
from complaints.warehouse.checksum import fingerprint
from complaints.warehouse.journal import CRASH_STEPS

UNIT = Path(__file__).resolve().parents[1] / "unit"
PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
SOURCES = ("prov-31", "kab-1")
CHILD = f"""
import sys
sys.path[:0] = [{str(PLUGINS)!r}]
from complaints.warehouse import Warehouse
Warehouse(root=sys.argv[1]).upgrade_layout()
"""


@pytest.fixture(scope="module")
def old_layout(tmp_path_factory):
    """A warehouse, its fingerprint, and a copy whose current files sit in source folders."""
    sys.path.insert(0, str(UNIT))
    from test_warehouse_support import publish, ts, version

    mon = date(2026, 10, 5)
    new = tmp_path_factory.mktemp("new") / "wh"
    wh = Warehouse(root=str(new))
    for source in SOURCES:
        rows = [version(f"{source}-{i}", "received", ts(mon), source=source) for i in range(3)]
        rows.append(version(f"{source}-sep", "received", ts(date(2026, 9, 10)), source=source))
        publish(wh, mon, rows, f"r-{source}", source=source)
    old = tmp_path_factory.mktemp("old") / "wh"
    shutil.copytree(new, old)
    cur = old / "complaint_current"
    for f in sorted(cur.glob("submitted_month=*/*.parquet")):
        folder = f.parent / f"source_id={f.stem}"
        folder.mkdir()
        table = pq.read_table(f)
        pq.write_table(table.slice(0, 1), folder / "part-0.parquet")
        pq.write_table(table.slice(1), folder / "part-1.parquet")
        f.unlink()
    return old, fingerprint(wh.storage), sorted(wh.read("complaint_current").to_pylist(), key=_key)


def _key(row: dict) -> tuple[str, str]:
    return row["source_id"], row["complaint_id"]


def _places(root: Path, source: str) -> set[str]:
    cur = root / "complaint_current"
    old = list(cur.glob(f"submitted_month=*/source_id={source}/*.parquet"))
    new = list(cur.glob(f"submitted_month=*/{source}.parquet"))
    return {place for place, files in (("old", old), ("new", new)) if files}


@pytest.mark.parametrize("step", CRASH_STEPS)
def test_killed_upgrade_leaves_each_source_old_or_new(old_layout, tmp_path, step):
    old, expected, rows = old_layout
    root = tmp_path / "wh"
    shutil.copytree(old, root)
    env = {**os.environ, "COMPLAINTS_TEST_CRASH_AT": step}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(root)], env=env, check=False)
    assert proc.returncode == -signal.SIGKILL
    wh = Warehouse(root=str(root))
    wh.recover()
    assert all(len(_places(root, s)) == 1 for s in SOURCES)
    wh.upgrade_layout()
    assert all(_places(root, s) == {"new"} for s in SOURCES)
    assert fingerprint(wh.storage) == expected
    assert sorted(wh.read("complaint_current").to_pylist(), key=_key) == rows
