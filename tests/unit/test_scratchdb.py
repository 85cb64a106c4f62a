"""The per-process scratch DuckDB: several out-of-core steps in one process, spilling included."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import datetime as dt
    import pyarrow as pa
    from complaints import scratchdb
    scratchdb.MEMORY_LIMIT = "48MB"  # small enough that the key rule spills
    from complaints.quality.keys import KEY_RECORD_SCHEMA, key_duplicates

    n = 400_000
    ids = pa.array([f"c-{i % (n // 2)}" for i in range(n)])
    when = pa.array([dt.datetime(2026, 10, 30, tzinfo=dt.UTC)] * n, pa.timestamp("us", "UTC"))
    keys = pa.table(
        [pa.array(range(n), pa.int64()), pa.array(range(n), pa.int64()), ids, when,
         pa.array([i % 3 for i in range(n)], pa.uint64()), pa.array([False] * n)],
        schema=KEY_RECORD_SCHEMA,
    )
    first = key_duplicates(keys)
    second = key_duplicates(keys)  # the same process, after the first spilled
    con = scratchdb.cursor()
    limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    spill = con.execute("select current_setting('temp_directory')").fetchone()[0]
    io_threads = con.execute("select current_setting('async_threads')").fetchone()[0]
    import os
    spilled = os.path.isdir(spill)
    print(first.num_rows, first.equals(second), limit.replace(" ", ""), spill, spilled, io_threads)
    """
)


def test_key_rule_runs_twice_in_one_process_with_a_spilling_database():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=300
    ).stdout.split()
    rows, equal, limit, spill, spilled, io_threads = out
    assert int(rows) == 400_000  # every key appears twice
    assert equal == "True"
    assert limit.endswith("MiB") and float(limit.removesuffix("MiB")) < 50
    assert Path(spill).name.startswith("complaints-duckdb-") and spilled == "True"
    assert not Path(spill).exists()  # removed at exit
    assert io_threads == "0"  # local files read on the worker threads (scratchdb._database)


def test_a_process_killed_before_spilling_leaves_no_folder():
    script = (
        "import os, signal\n"
        "from complaints import scratchdb\n"
        "con = scratchdb.cursor()\n"
        "con.execute('select count(*) from range(1000)').fetchall()\n"
        "temp = con.execute(\"select current_setting('temp_directory')\").fetchone()[0]\n"
        "print(temp, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL
    spill = Path(proc.stdout.strip())
    assert spill.name.startswith("complaints-duckdb-") and not spill.exists()
