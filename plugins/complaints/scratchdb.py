"""One scratch DuckDB database per process for the out-of-core steps of an ingest.

The day's key rule (``quality.keys``) and the complaint_current merge (``warehouse.current``)
run in DuckDB so that a large source-day spills to disk instead of growing the process: both
share this database's ``MEMORY_LIMIT``, each call on a ``cursor()`` of its own. Opening a
database costs ~40 ms, and a national day ingests hundreds of source-days in one process, so
the database lives as long as the process. DuckDB cannot move its temporary folder once it has
spilled, so the process has one, removed at exit. DuckDB creates it only when it first spills:
a process killed before it spilled (a task timeout's SIGKILL) leaves nothing in the temp folder.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import uuid
from functools import lru_cache

import duckdb

#: DuckDB's memory for one process's out-of-core work; beyond it DuckDB spills to disk
MEMORY_LIMIT = "256MB"
_OPENING = threading.Lock()  # batches are checked in threads: the first two must share one


@lru_cache(maxsize=1)
def _database() -> duckdb.DuckDBPyConnection:
    spill = os.path.join(
        tempfile.gettempdir(), f"complaints-duckdb-{os.getpid()}-{uuid.uuid4().hex}"
    )
    atexit.register(shutil.rmtree, spill, True)
    # the merge reads local Parquet files: on the worker threads, not through DuckDB 2's pool
    # of I/O threads (as catalog.ANALYST_SETTINGS)
    con = duckdb.connect(
        config={"memory_limit": MEMORY_LIMIT, "temp_directory": spill, "async_threads": 0}
    )
    # results that need an order say so (ORDER BY); the rest may come in any order
    con.execute("SET preserve_insertion_order = false")
    return con


def cursor() -> duckdb.DuckDBPyConnection:
    """A connection of its own to the process's scratch database (UTC session time zone)."""
    with _OPENING:
        con = _database().cursor()
    con.execute("SET TimeZone = 'UTC'")
    return con
