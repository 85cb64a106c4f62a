"""Kill a publish at every step and at random moments: after recover() the warehouse is
exactly the state before or after the publish, never in between. Readers never fail."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from complaints.warehouse import Warehouse
from complaints.warehouse.checksum import fingerprint
from complaints.warehouse.journal import CRASH_STEPS

UNIT = Path(__file__).resolve().parents[1] / "unit"
PLUGINS = Path(__file__).resolve().parents[2] / "plugins"

CHILD = """
import sys
from datetime import date
sys.path[:0] = [{unit!r}, {plugins!r}]
from test_warehouse_support import publish, ts, version
from complaints.warehouse import Warehouse
tue = date(2026, 10, 6)
wh = Warehouse(root=sys.argv[1])
rows = [version("A", "closed", ts(tue, 12)), version("N", "received", ts(tue, 13))]
for i in range(int(sys.argv[2])):
    print("ready", flush=True)
    publish(wh, tue, rows if i % 2 == 0 else rows[:1], "rerun-tue", nq=0)
print("done", flush=True)
"""


def _child(root: Path, times: int = 1, crash: str | None = None, **kw) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("COMPLAINTS_TEST_CRASH_AT", None)
    if crash:
        env["COMPLAINTS_TEST_CRASH_AT"] = crash
    code = CHILD.format(unit=str(UNIT), plugins=str(PLUGINS))
    return subprocess.Popen(
        [sys.executable, "-c", code, str(root), str(times)], env=env, text=True, **kw
    )


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    """A loaded warehouse (Mon..Wed) and the fingerprints before and after the Tuesday rerun."""
    sys.path.insert(0, str(UNIT))
    from test_warehouse_support import publish, ts, version

    base = tmp_path_factory.mktemp("base") / "wh"
    wh = Warehouse(root=str(base))
    from datetime import date

    mon, tue, wed = date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 7)
    publish(wh, mon, [version("A", "received", ts(mon)), version("B", "received", ts(mon))], "m")
    publish(
        wh, tue, [version("A", "verified", ts(tue)), version("C", "received", ts(tue))], "t", nq=2
    )
    publish(wh, wed, [version("B", "verified", ts(wed))], "w")
    after_dir = tmp_path_factory.mktemp("after") / "wh"
    shutil.copytree(base, after_dir)
    assert _child(after_dir).wait() == 0
    before, after = fingerprint(wh.storage), fingerprint(Warehouse(root=str(after_dir)).storage)
    assert before != after
    return base, before, after


def _leftovers(root: Path) -> list[str]:
    return [p.name for d in ("_staging", "_journal") for p in (root / d).glob("*")]


@pytest.mark.parametrize("step", CRASH_STEPS)
def test_kill_at_each_step_recovers_to_before_or_after(states, tmp_path, step):
    base, before, after = states
    root = tmp_path / "wh"
    shutil.copytree(base, root)
    proc = _child(root, crash=step, stdout=subprocess.DEVNULL)
    assert proc.wait() == -signal.SIGKILL
    wh = Warehouse(root=str(root))
    wh.recover()
    expected = before if CRASH_STEPS.index(step) < CRASH_STEPS.index("journal") else after
    assert fingerprint(wh.storage) == expected
    assert _leftovers(root) == []


def test_kill_at_random_moments(states, tmp_path):
    base, before, after = states
    rng = random.Random(7)
    seen = set()
    for i in range(8):
        root = tmp_path / f"wh{i}"
        shutil.copytree(base, root)
        proc = _child(root, stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0, 0.4))  # where the kill lands is random; nothing is timed
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        wh = Warehouse(root=str(root))
        wh.recover()
        state = fingerprint(wh.storage)
        assert state in (before, after)
        seen.add("before" if state == before else "after")
        assert _leftovers(root) == []


def test_readers_never_see_a_half_written_file(states, tmp_path):
    base, _, _ = states
    root = tmp_path / "wh"
    shutil.copytree(base, root)
    wh = Warehouse(root=str(root))
    writer = _child(root, times=12, stdout=subprocess.PIPE)
    assert writer.stdout.readline().strip() == "ready"
    con = wh.connect()
    queries = 0
    while writer.poll() is None:
        n_cur = con.sql("select count(*) from complaint_current").fetchall()[0][0]
        n_hist = con.sql("select count(*) from complaint_history where day = '2026-10-06'")
        assert n_cur in (2, 3, 4) and n_hist.fetchall()[0][0] in (1, 2)
        queries += 1
    assert writer.wait() == 0
    writer.stdout.close()
    assert queries > 0
    assert con.sql("select count(*) from complaint_current").fetchall()[0][0] == 2
