"""The key rule over a whole source-day, however many batches it came in.

Every mapped row is reduced to a small key record (``key_records``): its position in the day's
mapped rows, its raw row number, ``(complaint_id, updated_at)``, a 64-bit hash of all its
canonical values and whether a row-level check already quarantined it. ``key_duplicates`` finds,
over all of a day's key records (one Table, or a Dataset over spilled parts), the rows
whose key is not unique, with DuckDB (``complaints.scratchdb``, which spills to disk rather
than hold a large day in memory): GX counts all of them; an exact copy of an earlier row is a ``duplicate row``; every
version of a key sent with different contents is a ``conflicting version``. Null keys are equal
to each other, as in pandas' ``duplicated``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds

from complaints import canonical, scratchdb

KEY = ("complaint_id", "updated_at")
KEY_RECORD_SCHEMA = pa.schema(
    [
        ("pos", pa.int64()),
        ("_row", pa.int64()),
        ("complaint_id", pa.string()),
        ("updated_at", canonical.TS),
        ("h", pa.uint64()),
        ("bad", pa.bool_()),
    ]
)
#: the day's rows with a non-unique key, in position order
DUPLICATES_SCHEMA = pa.schema(
    [
        ("pos", pa.int64()),
        ("_row", pa.int64()),
        ("complaint_id", pa.string()),
        ("updated_at", canonical.TS),
        ("copy", pa.bool_()),
        ("conflict", pa.bool_()),
        ("bad", pa.bool_()),
    ]
)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def key_records(table: pa.Table, offset: int, bad) -> pa.Table:
    """Key records of conformed canonical rows (``audit._conform``) at day positions
    ``offset``, ``offset + 1`` ...; ``bad``: the rows' row-check verdict (a boolean mask).
    Without a ``_row`` column the positions stand in for the row numbers."""
    n = table.num_rows
    values = table.select([c for c in table.column_names if c != "_row"])
    if n and values.num_columns:
        con = scratchdb.cursor()
        try:
            con.register("batch", values.append_column("_pos", pa.array(range(n), pa.int64())))
            cols = ", ".join(_quoted(c) for c in values.column_names)
            sql = f"SELECT _pos, hash({cols}) AS h FROM batch"  # noqa: S608
            found = con.sql(sql).to_arrow_table()
        finally:
            con.close()
        # put back in row order with numpy (an ORDER BY _pos was half of this function's time)
        hashes = np.empty(n, np.uint64)
        hashes[found["_pos"].to_numpy()] = found["h"].to_numpy()
    else:
        hashes = np.zeros(n, np.uint64)
    positions = pa.array(range(offset, offset + n), pa.int64())
    return pa.table(
        [
            positions,
            table["_row"].cast(pa.int64()) if "_row" in table.column_names else positions,
            table["complaint_id"],
            table["updated_at"],
            pa.array(hashes, pa.uint64()),
            pa.array(bad, pa.bool_()),
        ],
        schema=KEY_RECORD_SCHEMA,
    )


_DUPLICATES_SQL = """
WITH groups AS (
    SELECT complaint_id, updated_at, count(DISTINCT h) > 1 AS conflict
    FROM keys GROUP BY complaint_id, updated_at HAVING count(*) > 1
)
SELECT k.pos, k._row, k.complaint_id, k.updated_at,
       row_number() OVER (PARTITION BY k.complaint_id, k.updated_at, k.h ORDER BY k.pos) > 1
           AS copy,
       g.conflict, k.bad
FROM keys k JOIN groups g
  ON k.complaint_id IS NOT DISTINCT FROM g.complaint_id
 AND k.updated_at IS NOT DISTINCT FROM g.updated_at
ORDER BY k.pos
"""


#: at most this many key records are first checked for any repeated key in memory (two columns,
#: ~25 MB): most source-days have none, and the DuckDB query cost ~10 ms even for a small day
UNIQUE_CHECK_ROWS = 1_000_000


def _all_unique(keys: pa.Table | ds.Dataset) -> bool:
    """Whether no key repeats, when the day is small enough to tell in memory (else False)."""
    n = keys.num_rows if isinstance(keys, pa.Table) else keys.count_rows()
    if n > UNIQUE_CHECK_ROWS:
        return False
    pairs = keys.select(list(KEY)) if isinstance(keys, pa.Table) else keys.to_table(list(KEY))
    # null keys fall into one group, as in the query below
    return pairs.group_by(list(KEY)).aggregate([]).num_rows == n


def key_duplicates(keys: pa.Table | ds.Dataset) -> pa.Table:
    """The rows of non-unique keys among ``keys`` (``KEY_RECORD_SCHEMA``), ``DUPLICATES_SCHEMA``."""
    if _all_unique(keys):
        return DUPLICATES_SCHEMA.empty_table()
    con = scratchdb.cursor()
    try:
        con.register("keys", keys)
        out = con.sql(_DUPLICATES_SQL).to_arrow_table()
    finally:
        con.close()
    return out.cast(DUPLICATES_SCHEMA)
