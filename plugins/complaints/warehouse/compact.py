"""Merge the small files of a partition (e.g. one ingest_runs file per attempt) into one."""

from __future__ import annotations

import pyarrow as pa

from complaints.warehouse import layout
from complaints.warehouse.journal import Transaction, recover
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
    for table in tables:
        for rel_dir in sorted(small_file_partitions(storage, table)):
            result = compact_partition(storage, rel_dir)
            if result:
                done.append(result)
    return {
        "partitions_compacted": len(done),
        "files_removed": sum(d["files_before"] - 1 for d in done),
        "partitions": [d["partition"] for d in done],
    }


def upgrade_current_layout(storage: Storage, source_id: str | None = None) -> list[str]:
    """Move complaint_current files of the old source-first layout
    (``complaint_current/source_id=<id>/submitted_month=<m>/``) to month first, one
    transaction per source under its lock. Returns the sources moved; a no-op when none is left.
    """
    old_dirs = [
        d
        for d in storage.list_dirs(layout.CURRENT)
        if d.startswith("source_id=") and (source_id is None or d == f"source_id={source_id}")
    ]
    moved = []
    for d in old_dirs:
        sid = d.split("=", 1)[1]
        key = f"source-{sid}"
        with storage.lock(key):
            recover(storage, held=frozenset({key}))
            files = [
                f for f in storage.list_files(f"{layout.CURRENT}/{d}") if f.endswith(".parquet")
            ]
            if not files:
                storage.rmtree(f"{layout.CURRENT}/{d}")
                continue
            tx = Transaction(storage, key)
            try:
                for f in files:
                    month = layout.partition_values(f).get("submitted_month")
                    if month is None:
                        raise ValueError(f"{f}: no submitted_month folder")
                    name = f.rsplit("/", 1)[1]
                    target = f"{layout.current_dir(sid, month)}/{name}"
                    tx.put(target, storage.read_parquet(f).cast(layout.current_schema()))
                    tx.delete(f)
                tx.commit()
            except BaseException:
                tx.abort()
                raise
            storage.rmtree(f"{layout.CURRENT}/{d}")
            moved.append(sid)
    return moved
