"""The key rule over a whole source-day, however many batches it came in.

Every mapped row is reduced to a small key record (``key_records``): its position in the day's
mapped rows, its raw row number, ``(complaint_id, updated_at)``, a 64-bit hash of all its canonical
values and whether a row-level check already quarantined it. ``key_duplicates`` finds, over all of a
day's key records (one Table, or a Dataset over spilled parts), the rows whose key is not unique,
with DuckDB (``complaints.scratchdb``, which spills to disk rather than hold a large day in memory):
GX counts all of them; an exact copy of an earlier row is a ``duplicate row``; every version of a
key sent with different contents is a ``conflicting version``. Null keys are equal to each other, as
in pandas' ``duplicated``.

The hash only matters for rows whose key repeats, and most days have none: a streamed day
(``streaming.SourceDay``) makes its key records without it (``hashed=False``) and
``key_duplicates`` asks for the hashes of the repeated rows only (``row_hashes`` of their
spilled canonical values, each batch's rows on their own as before).
"""

from __future__ import annotations

from collections.abc import Callable

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


def row_hashes(table: pa.Table) -> pa.Table:
    """``(_row, h)``: a 64-bit hash of each row's values (every column but ``_row``, in the
    table's order), rows in any order. Only rows hashed by the same column set compare."""
    values = table.select([c for c in table.column_names if c != "_row"])
    rows = table["_row"] if "_row" in table.column_names else pa.array(np.arange(table.num_rows))
    if not table.num_rows or not values.num_columns:
        return pa.table({"_row": rows, "h": pa.array(np.zeros(table.num_rows, np.uint64))})
    con = scratchdb.cursor()
    try:
        con.register("batch", values.append_column("_row", rows.cast(pa.int64())))
        cols = ", ".join(_quoted(c) for c in values.column_names)
        return con.sql(f"SELECT _row, hash({cols}) AS h FROM batch").to_arrow_table()  # noqa: S608
    finally:
        con.close()


def key_records(table: pa.Table, offset: int, bad, *, hashed: bool = True) -> pa.Table:
    """Key records of conformed canonical rows (``audit._conform``) at day positions
    ``offset``, ``offset + 1`` ...; ``bad``: the rows' row-check verdict (a boolean mask).
    Without a ``_row`` column the positions stand in for the row numbers. ``hashed=False``
    leaves ``h`` null, for a caller that hashes only the rows whose key repeats
    (``key_duplicates(..., hashes=...)``): most days have none, and hashing every row was
    ~0.6 CPU s of a 1,000,000-row day."""
    n = table.num_rows
    positions = pa.array(np.arange(offset, offset + n, dtype=np.int64))  # not range: per value
    rows = table["_row"].cast(pa.int64()) if "_row" in table.column_names else positions
    if not hashed:
        hashes = pa.nulls(n, pa.uint64())
    elif n:
        plain = table.select([c for c in table.column_names if c != "_row"])
        found = row_hashes(plain.append_column("_row", positions))
        # put back in row order with numpy (an ORDER BY was half of this function's time)
        in_order = np.empty(n, np.uint64)
        in_order[found["_row"].to_numpy() - offset] = found["h"].to_numpy()
        hashes = pa.array(in_order, pa.uint64())
    else:
        hashes = pa.array([], pa.uint64())
    return pa.table(
        [
            positions,
            rows,
            table["complaint_id"],
            table["updated_at"],
            hashes,
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


#: the key records of every key that occurs more than once (all of each group)
_REPEATED_SQL = """
SELECT k.pos, k._row, k.complaint_id, k.updated_at, k.bad
FROM keys k SEMI JOIN (
    SELECT complaint_id, updated_at FROM keys GROUP BY complaint_id, updated_at HAVING count(*) > 1
) g ON k.complaint_id IS NOT DISTINCT FROM g.complaint_id
   AND k.updated_at IS NOT DISTINCT FROM g.updated_at
"""

#: up to this many key records are checked for a repeated key with Arrow in memory (two
#: columns): most source-days have none, and a DuckDB query costs ~10 ms even for a small day.
#: A bigger day asks DuckDB for the distinct keys instead: Arrow's single-threaded grouping took
#: 0.44 s of a 1,000,000-row B1 day, DuckDB's 0.075 s (both ~2 ms at 20,000 records).
UNIQUE_CHECK_ROWS = 20_000

_DISTINCT_SQL = "SELECT count(*) FROM (SELECT DISTINCT complaint_id, updated_at FROM keys)"


def _all_unique(keys: pa.Table | ds.Dataset) -> bool:
    """Whether no key repeats; null keys fall into one group, as in the queries below."""
    n = keys.num_rows if isinstance(keys, pa.Table) else keys.count_rows()
    if n <= UNIQUE_CHECK_ROWS:
        pairs = keys.select(list(KEY)) if isinstance(keys, pa.Table) else keys.to_table(list(KEY))
        return pairs.group_by(list(KEY)).aggregate([]).num_rows == n
    con = scratchdb.cursor()
    try:
        con.register("keys", keys)
        ((distinct,),) = con.sql(_DISTINCT_SQL).fetchall()
    finally:
        con.close()
    return distinct == n


def key_duplicates(
    keys: pa.Table | ds.Dataset, hashes: Callable[[np.ndarray], pa.Table] | None = None
) -> pa.Table:
    """The rows of non-unique keys among ``keys`` (``KEY_RECORD_SCHEMA``), ``DUPLICATES_SCHEMA``.

    ``hashes``: for key records made with ``hashed=False``, gives ``row_hashes`` of the rows
    with the given ``_row`` numbers; it is asked only for the rows whose key repeats."""
    if _all_unique(keys):
        return DUPLICATES_SCHEMA.empty_table()
    con = scratchdb.cursor()
    try:
        con.register("keys", keys)
        if hashes is not None:
            repeated = con.sql(_REPEATED_SQL).to_arrow_table()
            if not repeated.num_rows:
                return DUPLICATES_SCHEMA.empty_table()
            found = hashes(repeated["_row"].to_numpy())
            con.register("found", found)
            con.register("repeated", repeated)
            con.unregister("keys")
            con.execute(
                "CREATE TEMP TABLE keys AS SELECT r.pos, r._row, r.complaint_id, r.updated_at, "
                "f.h, r.bad FROM repeated r JOIN found f USING (_row)"
            )
            ((hashed,),) = con.sql("SELECT count(*) FROM keys").fetchall()
            if hashed != repeated.num_rows:
                raise RuntimeError(f"hashes for {hashed} of {repeated.num_rows} repeated keys")
        out = con.sql(_DUPLICATES_SQL).to_arrow_table()
    finally:
        con.close()
    return out.cast(DUPLICATES_SCHEMA)
