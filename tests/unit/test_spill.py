"""Spill folders: removed when the ingest ends, and swept when a killed ingest left one."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest

from complaints.spill import Spill

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def _killed_ingest(parent: Path, name: str, make_folder: bool = True) -> None:
    """A process that spills a part (or only takes the lock) and is SIGKILLed."""
    code = textwrap.dedent(
        f"""
        import os, pathlib, signal, sys
        sys.path.insert(0, {str(PLUGINS)!r})
        import pyarrow as pa
        from complaints.spill import Spill
        from complaints.warehouse.storage import Lock
        if {make_folder!r}:
            Spill(sys.argv[1]).write("raw", 0, pa.table({{"x": [1, 2]}}))
        else:
            Lock(pathlib.Path(sys.argv[1]).parent, "{name}").acquire()
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code, str(parent / name)], timeout=120)
    assert proc.returncode == -signal.SIGKILL


def test_a_spill_leaves_nothing_behind(tmp_path):
    with Spill(tmp_path / "run-1") as spill:
        spill.write("raw", 0, pa.table({"x": [1]}))
        assert (tmp_path / "run-1" / "raw").is_dir() and (tmp_path / "run-1.lock").exists()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError), Spill(tmp_path / "run-2"):
        raise RuntimeError("the ingest failed")
    assert list(tmp_path.iterdir()) == []


def test_sweep_removes_killed_ingests_and_keeps_live_ones(tmp_path):
    _killed_ingest(tmp_path, "run-killed")
    _killed_ingest(tmp_path, "run-killed-before-mkdir", make_folder=False)
    assert (tmp_path / "run-killed" / "raw" / "part-000000.arrow").exists()
    assert (tmp_path / "run-killed-before-mkdir.lock").exists()
    (tmp_path / "run-from-an-older-version").mkdir()  # no lock file at all
    with Spill(tmp_path / "run-live") as live:
        live.write("raw", 0, pa.table({"x": [1]}))
        removed = Spill.sweep(tmp_path)
        assert removed == ["run-from-an-older-version", "run-killed", "run-killed-before-mkdir"]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["run-live", "run-live.lock"]
        assert live.read("raw", 0).num_rows == 1
    assert Spill.sweep(tmp_path) == [] and list(tmp_path.iterdir()) == []
