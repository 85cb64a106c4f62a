"""Where every table lives in the warehouse and what its files hold.

Paths are relative to the warehouse root and always use ``/``. Partitions are Hive style
(``key=value`` folders) so DuckDB and pyarrow prune them and a plain Parquet reader can read
a whole folder. Files appear only by rename from ``_staging/``; nothing outside a table's own
folder is ever matched by ``<table>/**/*.parquet``.
"""

from __future__ import annotations

import re
from datetime import date

import pyarrow as pa

from complaints import canonical, tables

RAW = "raw"
HISTORY = "complaint_history"
CURRENT = "complaint_current"
QUARANTINE = "quarantine"
INGEST_RUNS = "ingest_runs"
CORE_TABLES = (CURRENT, HISTORY, RAW, QUARANTINE, INGEST_RUNS)
#: tables the metrics module writes through ``Warehouse.write_table``
METRICS_TABLES = (
    "institution_metrics",
    "region_metrics",
    "national_metrics",
    "overdue_complaints",
)

STAGING = "_staging"
JOURNAL = "_journal"
CATALOG_FILE = "catalog.duckdb"
PART = "part-0.parquet"

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_VALUE = re.compile(r"^[A-Za-z0-9._:-]+$")


def check_name(name: str) -> str:
    """A table or partition key name: lower case letters, digits and ``_``."""
    if not _NAME.match(name):
        raise ValueError(f"bad table or partition name {name!r}: use [a-z][a-z0-9_]*")
    return name


def check_value(value: str) -> str:
    """A partition value that is safe in a path (no ``/``, no ``=``, no spaces)."""
    if not _VALUE.match(value) or value in (".", ".."):
        raise ValueError(f"bad partition value {value!r}: use [A-Za-z0-9._:-]+")
    return value


def partition_dir(table: str, partition: dict[str, str]) -> str:
    parts = [check_name(table)]
    parts += [f"{check_name(k)}={check_value(str(v))}" for k, v in partition.items()]
    return "/".join(parts)


def day_dir(table: str, source_id: str, day: date) -> str:
    return partition_dir(table, {"source_id": source_id, "day": day.isoformat()})


def day_file(table: str, source_id: str, day: date) -> str:
    return f"{day_dir(table, source_id, day)}/{PART}"


def run_file(source_id: str, day: date, run_id: str) -> str:
    return f"{day_dir(INGEST_RUNS, source_id, day)}/run-{check_value(run_id)}.parquet"


def current_month_dir(month: str) -> str:
    """Month first: a month filter prunes whole folders, whatever the sources."""
    return partition_dir(CURRENT, {"submitted_month": month})


def current_month(month_dir: str) -> str | None:
    """``YYYY-MM`` of a ``submitted_month=YYYY-MM`` folder name (None for anything else)."""
    key, _, value = month_dir.partition("=")
    return value if key == "submitted_month" and value else None


def current_file(source_id: str, month: str) -> str:
    """The one file of a (month, source): ``submitted_month=<m>/<source_id>.parquet``.

    No folder per source: DuckDB stats every folder of a glob on each query (36 months x 680
    sources cost ~0.5 s). The name is the source's id, which the catalog view reads back.
    """
    return f"{current_month_dir(month)}/{check_value(source_id)}.parquet"


def current_source(rel_path: str) -> str | None:
    """The source of a current file in the month-first flat layout (None for other paths)."""
    parts = rel_path.split("/")
    if len(parts) != 3 or parts[0] != CURRENT or current_month(parts[1]) is None:
        return None
    name = parts[2]
    return name[: -len(".parquet")] if name.endswith(".parquet") else None


def partition_values(rel_path: str) -> dict[str, str]:
    """The ``key=value`` folders of a file's path, in order."""
    out: dict[str, str] = {}
    for piece in rel_path.split("/")[1:-1]:
        if "=" in piece:
            key, value = piece.split("=", 1)
            out[key] = value
    return out


def history_schema() -> pa.Schema:
    """complaint_history files: every canonical version, the day it was seen, and by which run."""
    return (
        canonical.schema()
        .append(pa.field("seen_day", pa.date32(), nullable=False))
        .append(pa.field("run_id", pa.string()))
        .append(pa.field("version_seq", pa.int32(), nullable=False))
    )


def current_schema() -> pa.Schema:
    """complaint_current files: the latest version of each complaint plus its life span."""
    fields = list(canonical.schema())
    fields += [
        pa.field("seen_day", pa.date32(), nullable=False),
        pa.field("first_seen_day", pa.date32(), nullable=False),
        pa.field("last_seen_day", pa.date32(), nullable=False),
        pa.field("submitted_month", pa.string(), nullable=False),
    ]
    return pa.schema(fields)


#: partition columns that are only in the path, not in the files
_PATH_ONLY = {HISTORY: [pa.field("day", pa.date32())], RAW: [pa.field("day", pa.date32())]}


def known_schema(table: str) -> pa.Schema | None:
    """The schema a reader sees for a core table (files + path-only partition columns)."""
    base = {
        CURRENT: current_schema(),
        HISTORY: history_schema(),
        QUARANTINE: tables.QUARANTINE_SCHEMA,
        INGEST_RUNS: tables.INGEST_RUN_SCHEMA,
        RAW: pa.schema([pa.field("source_id", pa.string())]),
    }.get(table)
    if base is None:
        return None
    for field in _PATH_ONLY.get(table, []):
        if field.name not in base.names:
            base = base.append(field)
    return base


def lock_key_for(rel_path: str) -> str:
    """The lock that guards a file: its source for per-source tables, else its table."""
    source = partition_values(rel_path).get("source_id") or current_source(rel_path)
    if source:
        return f"source-{source}"
    return f"table-{rel_path.split('/')[0]}"
