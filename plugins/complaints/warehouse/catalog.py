"""Analysts' access: DuckDB views and pyarrow datasets over every table.

A local warehouse gets views over ``read_parquet('<root>/<table>/**/*.parquet',
hive_partitioning=true, union_by_name=true)`` with absolute paths, so ``catalog.duckdb`` works
from any folder. DuckDB reads S3 only through its httpfs extension (not available offline), so
for an S3 root ``connect()`` registers pyarrow datasets instead. A table with no files yet gets
an empty view with its known columns.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from complaints.warehouse import layout
from complaints.warehouse.storage import LocalStorage, Storage

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def table_names(storage: Storage) -> list[str]:
    found = {
        name
        for name in storage.list_dirs("")
        if not name.startswith(("_", ".")) and re.match(r"^[a-z][a-z0-9_]*$", name)
    }
    return sorted(found | set(layout.CORE_TABLES))


def parquet_files(storage: Storage, table: str) -> list[str]:
    return [f for f in storage.list_files(table) if f.endswith(".parquet")]


def dataset(storage: Storage, table: str) -> ds.Dataset:
    """A pyarrow dataset over a table: file schemas unified, partition columns typed."""
    files = parquet_files(storage, table)
    if not files:
        schema = layout.known_schema(table) or pa.schema([])
        return ds.dataset(schema.empty_table())
    schema = pa.unify_schemas([storage.read_schema(f) for f in files], promote_options="permissive")
    keys: dict[str, list[str]] = {}
    for f in files:
        for k, v in layout.partition_values(f).items():
            keys.setdefault(k, []).append(v)
    part_fields = []
    for k, values in keys.items():
        if k in schema.names:
            typ = schema.field(k).type
        elif all(_DATE.match(v) for v in values):
            typ = pa.date32()
        else:
            typ = pa.string()
        part_fields.append(pa.field(k, typ))
        if k not in schema.names:
            schema = schema.append(pa.field(k, typ))
    return ds.dataset(
        [storage.full(f) for f in files],
        schema=schema,
        filesystem=storage.fs,
        format="parquet",
        partitioning=ds.partitioning(pa.schema(part_fields), flavor="hive"),
        partition_base_dir=storage.full(table),
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _empty_view_sql(con: duckdb.DuckDBPyConnection, table: str, schema: pa.Schema) -> str:
    con.register("_wh_empty", schema.empty_table())
    try:
        cols = con.execute("DESCRIBE SELECT * FROM _wh_empty").fetchall()
    finally:
        con.unregister("_wh_empty")
    select = ", ".join(f"CAST(NULL AS {typ}) AS {_quote(name)}" for name, typ, *_ in cols)
    return f"CREATE OR REPLACE VIEW {_quote(table)} AS SELECT {select} WHERE false"


#: complaint_current's columns taken from its file names (``submitted_month=<m>/<source>.parquet``)
#: so that filters on them prune files before any is opened. A file holds one source's rows,
#: and a source is one institution with the source's id (``registry.models.Source``).
_CURRENT_FROM_NAME = (
    "SELECT * EXCLUDE (filename) REPLACE "
    "(parse_filename(filename, true) AS source_id, "
    "parse_filename(filename, true) AS institution_id)"
)


_CURRENT_OPTIONS = "hive_partitioning=true, hive_types={'submitted_month': VARCHAR}, filename=true"


def _parquet_view_sql(storage: LocalStorage, table: str) -> str:
    if table == layout.CURRENT:
        # every file is written with layout.current_schema(): no per-file schema probe
        # (union_by_name opens every footer at bind time), and a glob of exactly the month
        # depth so ``submitted_month`` filters prune folders
        glob = str(storage.path(table)) + "/submitted_month=*/*.parquet"
        options = _CURRENT_OPTIONS
        select = _CURRENT_FROM_NAME
    else:
        glob = str(storage.path(table)) + "/**/*.parquet"
        options = "hive_partitioning=true, union_by_name=true"
        select = "SELECT *"
    glob = glob.replace("'", "''")
    source = f"read_parquet('{glob}', {options})"
    return f"CREATE OR REPLACE VIEW {_quote(table)} AS {select} FROM {source}"  # noqa: S608


#: a table macro: complaint_current of the months ``first_month`` .. ``last_month`` ('YYYY-MM')
CURRENT_MONTHS = "complaint_current_months"
#: SQL: month count ``m`` (year * 12 + month - 1) as 'YYYY-MM'
_MONTH_TEXT = "printf('%04d-%02d', m // 12, m % 12 + 1)"


def _month_number(arg: str) -> str:
    """SQL: a 'YYYY-MM' macro argument as a month count (year * 12 + month - 1), or an error."""
    text = f"CAST({arg} AS VARCHAR)"
    return (
        f"CASE WHEN regexp_full_match({text}, '[0-9]{{4}}-(0[1-9]|1[0-2])') "
        f"THEN CAST(left({text}, 4) AS INTEGER) * 12 + CAST(right({text}, 2) AS INTEGER) - 1 "
        f"ELSE error('{CURRENT_MONTHS}: months are written YYYY-MM, not ' || "
        f"coalesce({text}, 'NULL')) END"
    )


def _current_months_sql(storage: Storage, con: duckdb.DuckDBPyConnection) -> str:
    """``complaint_current_months(first_month, last_month)``: the view's rows of those months.

    The view's glob lists every file of the table (36 months x ~680 sources at 100M
    complaints; DuckDB stats each) before a month filter prunes them: 0.1-0.5 s of planning a
    query on 2 cores. The macro globs only the months' folders, the month list computed from
    its arguments when the query is bound (a month with no folder reads nothing). Columns,
    their order and types are the view's; elsewhere (S3, no files yet) it filters the view."""
    numbers = f"{_month_number('first_month')}, {_month_number('last_month')}"
    head = f"CREATE OR REPLACE MACRO {CURRENT_MONTHS}(first_month, last_month) AS TABLE"
    files = parquet_files(storage, layout.CURRENT) if isinstance(storage, LocalStorage) else []
    if not files:
        # (generate_series checks the arguments when the query is bound, rows or not)
        months = f"SELECT {_MONTH_TEXT} FROM generate_series({numbers}) t(m)"  # noqa: S608 - constants
        where = (
            f"submitted_month BETWEEN first_month AND last_month AND submitted_month IN ({months})"
        )
        return f"{head} SELECT * FROM {layout.CURRENT} WHERE {where}"  # noqa: S608 - constants
    # the view's columns, from one of its files (DESCRIBE on the view would glob them all)
    one = storage.full(files[0]).replace("'", "''")
    described = con.execute(
        f"DESCRIBE {_CURRENT_FROM_NAME} FROM read_parquet('{one}', {_CURRENT_OPTIONS})"
    ).fetchall()
    from_name = {"source_id", "institution_id"}
    # zero typed rows beside the files, so that months without files give the view's columns
    empty = ", ".join(f"CAST(NULL AS {typ}) AS {_quote(name)}" for name, typ, *_ in described)
    picked = ", ".join(
        f"parse_filename(filename, true) AS {name}" if name in from_name else _quote(name)
        for name, *_ in described
    )
    folder = (str(storage.path(layout.CURRENT)) + "/submitted_month=").replace("'", "''")
    months = (
        f"list_transform(generate_series({numbers}), "
        f"lambda m: '{folder}' || {_MONTH_TEXT} || '/*.parquet')"
    )
    reading = f"read_parquet({months}, {_CURRENT_OPTIONS}, allow_empty=true)"
    rows = f"SELECT {empty}, CAST(NULL AS VARCHAR) AS filename WHERE false"
    return f"{head} SELECT {picked} FROM ({rows} UNION ALL BY NAME SELECT * FROM {reading})"  # noqa: S608 - our own path and columns


#: a scalar macro: the time from ``start_at`` to ``end_at`` in days of 24 hours (a DOUBLE,
#: negative when ``end_at`` is earlier, NULL when either is). TIMESTAMPTZ arithmetic
#: (``end_at - start_at > to_days(20)``) goes through DuckDB's ICU calendar for every row,
#: ~50x slower than these epoch differences; Indonesia keeps no daylight saving, so the
#: calendar adds nothing. Working-day SLA deadlines are in the metrics tables, not here.
ELAPSED_DAYS = "elapsed_days"
_ELAPSED_DAYS_SQL = (
    f"CREATE OR REPLACE MACRO {ELAPSED_DAYS}(start_at, end_at) AS "
    "(epoch_us(end_at) - epoch_us(start_at)) / 86400000000.0"
)


def create_views(storage: Storage, con: duckdb.DuckDBPyConnection, persistent: bool) -> None:
    for table in table_names(storage):
        has_files = bool(parquet_files(storage, table))
        if has_files and isinstance(storage, LocalStorage):
            con.execute(_parquet_view_sql(storage, table))
        elif has_files:
            if persistent:
                raise RuntimeError("a catalog file over S3 needs DuckDB's httpfs; use connect()")
            con.register(table, dataset(storage, table))
        else:
            schema = layout.known_schema(table)
            if schema is not None:
                con.execute(_empty_view_sql(con, table, schema))
    con.execute(_current_months_sql(storage, con))
    con.execute(_ELAPSED_DAYS_SQL)


#: a query over complaint_current opens hundreds or thousands of small local files: keep each
#: Parquet footer parsed between queries of one connection (a footer is re-read when its file
#: changes), and read them on the worker threads (``async_threads = 0``): DuckDB 2's pool of
#: I/O threads (4 per core) pays for itself on object storage, but for local files in the page
#: cache its hand-offs cost 20-30 % of a 2,000-file query on 2 cores
ANALYST_SETTINGS = "SET parquet_metadata_cache = true; SET async_threads = 0"


def connect(storage: Storage) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(ANALYST_SETTINGS)
    create_views(storage, con, persistent=False)
    return con


def refresh_catalog(storage: Storage) -> Path:
    """Write ``<root>/catalog.duckdb`` (replaced atomically; open readers keep the old one)."""
    if not isinstance(storage, LocalStorage):
        raise RuntimeError(
            "catalog.duckdb over an S3 warehouse needs DuckDB's httpfs extension; "
            "use Warehouse.connect(), which reads S3 through pyarrow"
        )
    target = storage.path(layout.CATALOG_FILE)
    with storage.lock("catalog"):  # one refresh at a time, so a temp file found now is stale
        for stale in target.parent.glob(f".{target.name}.*.tmp*"):  # a killed refresh's (+ .wal)
            stale.unlink(missing_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        con = duckdb.connect(str(tmp))
        try:
            create_views(storage, con, persistent=True)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, target)
    return target
