"""What a source-day publish, a run record and a derived-table write put in one transaction."""

from __future__ import annotations

import uuid
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from complaints import canonical, tables
from complaints.warehouse import current, layout
from complaints.warehouse.journal import Transaction
from complaints.warehouse.storage import Storage


def run_table(source_id: str, day: date, run: dict, default_status: str) -> pa.Table:
    row = {name: run.get(name) for name in tables.INGEST_RUN_SCHEMA.names}
    row["source_id"] = source_id
    row["day"] = day
    row["run_id"] = row["run_id"] or uuid.uuid4().hex
    row["status"] = row["status"] or default_status
    return pa.Table.from_pylist([row], schema=tables.INGEST_RUN_SCHEMA)


def history_table(source_id: str, day: date, versions: pa.Table, run_id: str) -> pa.Table:
    t = versions.select(list(canonical.FIELD_NAMES)).cast(canonical.schema())
    if t.num_rows:
        other = pc.unique(t["source_id"]).to_pylist()
        if other != [source_id]:
            raise ValueError(f"versions for {source_id} carry source_id {other}")
    n = t.num_rows
    t = t.append_column("seen_day", pa.array([day] * n, pa.date32()))
    t = t.append_column("run_id", pa.array([run_id] * n, pa.string()))
    t = t.append_column("version_seq", pa.array(range(n), pa.int32()))
    return current.null_rahasia_text(t).cast(layout.history_schema())


def _replace_day(tx: Transaction, table: str, source_id: str, day: date, data: pa.Table) -> None:
    """Make the day partition hold exactly ``data`` (nothing if it is empty)."""
    final = layout.day_file(table, source_id, day)
    for old in tx.storage.list_files(layout.day_dir(table, source_id, day)):
        if old != final:
            tx.delete(old)
    if data.num_rows:
        tx.put(final, data)
    else:
        tx.delete(final)


def replace_quarantine(
    tx: Transaction, source_id: str, day: date, quarantine: pa.Table
) -> pa.Table:
    """Make the source-day's quarantine partition hold exactly ``quarantine``."""
    q = quarantine.select(tables.QUARANTINE_SCHEMA.names).cast(tables.QUARANTINE_SCHEMA)
    _replace_day(tx, layout.QUARANTINE, source_id, day, q)
    return q


def _old_day_ids(storage: Storage, source_id: str, day: date) -> set[str]:
    ids: set[str] = set()
    for rel in storage.list_files(layout.day_dir(layout.HISTORY, source_id, day)):
        if rel.endswith(".parquet"):
            ids |= set(
                storage.read_parquet(rel, columns=["complaint_id"])["complaint_id"].to_pylist()
            )
    return ids


def stage_source_day(
    tx: Transaction,
    source_id: str,
    day: date,
    *,
    raw: pa.Table | None,
    versions: pa.Table,
    quarantine: pa.Table,
    run: dict,
) -> dict:
    storage = tx.storage
    runs = run_table(source_id, day, run, "published")
    run_id = runs["run_id"][0].as_py()
    history = history_table(source_id, day, versions, run_id)
    old_ids = _old_day_ids(storage, source_id, day)
    new_rows, affected, partitions = current.merge_day(storage, source_id, day, history, old_ids)

    if raw is not None:
        _replace_day(tx, layout.RAW, source_id, day, raw)
    _replace_day(tx, layout.HISTORY, source_id, day, history)
    q = replace_quarantine(tx, source_id, day, quarantine)
    tx.put(layout.run_file(source_id, day, run_id), runs)
    for month, part in partitions.items():
        final = layout.current_file(source_id, month)  # the source-month's only file
        if part.num_rows:
            tx.put(final, part)
        else:
            tx.delete(final)
    return {
        "source_id": source_id,
        "day": day.isoformat(),
        "run_id": run_id,
        "rows": {
            layout.RAW: None if raw is None else raw.num_rows,
            layout.HISTORY: history.num_rows,
            layout.QUARANTINE: q.num_rows,
            layout.CURRENT: new_rows.num_rows,
        },
        "complaints_touched": len(affected),
        "current_partitions": sorted(partitions),
    }


def to_arrow(table: pa.Table | pd.DataFrame) -> pa.Table:
    if isinstance(table, pd.DataFrame):
        return pa.Table.from_pandas(table, preserve_index=False)
    return table


def stage_partition(tx: Transaction, name: str, table: pa.Table, partition: dict[str, str]) -> dict:
    """Make one partition of a derived table hold exactly ``table``."""
    if name in layout.CORE_TABLES:
        raise ValueError(f"{name} is written by publish_source_day, not write_table")
    rel_dir = layout.partition_dir(name, partition)
    final = f"{rel_dir}/{layout.PART}"
    for old in tx.storage.list_files(rel_dir):
        if old != final and old.rsplit("/", 1)[0] == rel_dir:
            tx.delete(old)
    tx.put(final, table)
    return {"table": name, "path": final, "rows": table.num_rows}
