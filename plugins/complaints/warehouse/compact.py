"""Merge the small files of a partition (e.g. one ingest_runs file per attempt) into one;
move complaint_current out of the earlier layouts."""

from __future__ import annotations

import pyarrow as pa
from pyarrow.fs import FileType

from complaints.warehouse import layout
from complaints.warehouse.journal import Transaction, WarehouseError, recover
from complaints.warehouse.storage import Storage


def small_file_partitions(storage: Storage, table: str) -> dict[str, list[str]]:
    by_dir: dict[str, list[str]] = {}
    for f in storage.list_files(table):
        if f.endswith(".parquet"):
            by_dir.setdefault(f.rsplit("/", 1)[0], []).append(f)
    return {d: files for d, files in by_dir.items() if len(files) > 1}


def compact_partition(storage: Storage, rel_dir: str) -> dict | None:
    """Rewrite one partition as a single ``part-0.parquet``, under the partition's lock."""
    probe = f"{rel_dir}/{layout.PART}"
    key = layout.lock_key_for(probe)
    with storage.lock(key):
        recover(storage, held=frozenset({key}))
        files = [f for f in storage.list_files(rel_dir) if f.endswith(".parquet")]
        files = [f for f in files if f.rsplit("/", 1)[0] == rel_dir]
        if len(files) < 2:
            return None
        merged = pa.concat_tables(
            [storage.read_parquet(f) for f in files], promote_options="permissive"
        )
        tx = Transaction(storage, key)
        try:
            for f in files:
                if f != probe:
                    tx.delete(f)
            tx.put(probe, merged)
            tx.commit()
        except BaseException:
            tx.abort()
            raise
        return {"partition": rel_dir, "files_before": len(files), "rows": merged.num_rows}


def compact(storage: Storage, tables: list[str]) -> dict:
    done = []
    # complaint_current holds one file per (month, source) by design: never merged here
    for table in (t for t in tables if t != layout.CURRENT):
        for rel_dir in sorted(small_file_partitions(storage, table)):
            result = compact_partition(storage, rel_dir)
            if result:
                done.append(result)
    return {
        "partitions_compacted": len(done),
        "files_removed": sum(d["files_before"] - 1 for d in done),
        "partitions": [d["partition"] for d in done],
    }


def _old_current_files(storage: Storage, source_id: str | None) -> dict[str, list[str]]:
    """complaint_current files in a folder per source, by source: the source-first layout
    (``source_id=<id>/submitted_month=<m>/``) and the month-first one with source folders
    (``submitted_month=<m>/source_id=<id>/``)."""
    wanted = None if source_id is None else f"source_id={source_id}"
    top = storage.list_dirs(layout.CURRENT)
    dirs = [f"{layout.CURRENT}/{d}" for d in top if d.startswith("source_id=")]
    for month_dir in top:
        if layout.current_month(month_dir) is None:
            continue
        rel = f"{layout.CURRENT}/{month_dir}"
        if wanted is None:
            dirs += [f"{rel}/{d}" for d in storage.list_dirs(rel) if d.startswith("source_id=")]
        elif storage.fs.get_file_info(storage.full(f"{rel}/{wanted}")).type == FileType.Directory:
            dirs.append(f"{rel}/{wanted}")
    found: dict[str, list[str]] = {}
    for d in dirs:
        name = d.rsplit("/", 1)[1]
        if wanted is None or name == wanted:
            found.setdefault(name.split("=", 1)[1], []).append(d)
    return found


def upgrade_current_layout(storage: Storage, source_id: str | None = None) -> list[str]:
    """Move complaint_current files kept in a folder per source (either earlier layout) to
    ``submitted_month=<m>/<source_id>.parquet``, one transaction per source under its lock (a
    crash leaves each source wholly old or wholly new). Returns the sources moved; a no-op
    when none is left.
    """
    moved = []
    for sid, dirs in sorted(_old_current_files(storage, source_id).items()):
        key = f"source-{sid}"
        with storage.lock(key):
            recover(storage, held=frozenset({key}))
            by_month: dict[str, list[str]] = {}
            for d in dirs:
                for f in storage.list_files(d):
                    month = layout.partition_values(f).get("submitted_month")
                    if month is None:
                        raise ValueError(f"{f}: no submitted_month folder")
                    if f.endswith(".parquet"):
                        by_month.setdefault(month, []).append(f)
            if by_month:
                _move_source(storage, key, sid, by_month)
                moved.append(sid)
            for d in dirs:  # empty now (or already before): the files are in the new place
                storage.rmtree(d)
    return moved


def _move_source(storage: Storage, key: str, sid: str, by_month: dict[str, list[str]]) -> None:
    tx = Transaction(storage, key)
    try:
        for month, files in sorted(by_month.items()):
            target = layout.current_file(sid, month)
            if storage.exists(target):  # a move is one transaction: never old and new at once
                raise WarehouseError(f"{target} exists beside the older {files}")
            parts = [storage.read_parquet(f).cast(layout.current_schema()) for f in files]
            tx.put(target, pa.concat_tables(parts).sort_by("complaint_id"))
            for f in files:
                tx.delete(f)
        tx.commit()
    except BaseException:
        tx.abort()
        raise
