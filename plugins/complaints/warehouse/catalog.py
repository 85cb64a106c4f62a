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
    "(parse_filename(filename, true) AS source_id, parse_filename(filename, true) AS institution_id)"
)


def _parquet_view_sql(storage: LocalStorage, table: str) -> str:
    if table == layout.CURRENT:
        # every file is written with layout.current_schema(): no per-file schema probe
        # (union_by_name opens every footer at bind time), and a glob of exactly the month
        # depth so ``submitted_month`` filters prune folders
        glob = str(storage.path(table)) + "/submitted_month=*/*.parquet"
        types = "{'submitted_month': VARCHAR}"
        options = f"hive_partitioning=true, hive_types={types}, filename=true"
        select = _CURRENT_FROM_NAME
    else:
        glob = str(storage.path(table)) + "/**/*.parquet"
        options = "hive_partitioning=true, union_by_name=true"
        select = "SELECT *"
    glob = glob.replace("'", "''")
    source = f"read_parquet('{glob}', {options})"
    return f"CREATE OR REPLACE VIEW {_quote(table)} AS {select} FROM {source}"  # noqa: S608


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


#: keep each Parquet footer parsed between queries of one connection (a footer is re-read when
#: its file changes); a query over complaint_current opens hundreds of small files
ANALYST_SETTINGS = "SET parquet_metadata_cache = true"


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
