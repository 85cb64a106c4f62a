"""The per-process scratch DuckDB: several out-of-core steps in one process, spilling included."""

from __future__ import annotations

import subprocess
import sys
import textwrap

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
    print(first.num_rows, first.equals(second), limit.replace(" ", ""), "complaints-duckdb-" in spill)
    """
)


def test_key_rule_runs_twice_in_one_process_with_a_spilling_database():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=300
    ).stdout.split()
    rows, equal, limit, own_folder = out
    assert int(rows) == 400_000  # every key appears twice
    assert equal == "True"
    assert limit.endswith("MiB") and float(limit.removesuffix("MiB")) < 50
    assert own_folder == "True"
