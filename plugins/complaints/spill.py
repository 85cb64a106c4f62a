"""A source-day's batches as local Arrow IPC parts while it is being ingested.

``Spill`` keeps, per kind of table (raw rows, valid versions, quarantine rows, key records ...), one
uncompressed Arrow IPC file per batch under its folder (``<data_dir>/spill/<run_id>``), so a day
never has to be held in memory: a part can be read back and rewritten on its own, and the parts of a
kind are handed on as one pyarrow Dataset. The parts live only for the ingest, so they are written
in Arrow's own format without compression: about five times faster than Parquet with lz4, at the
cost of local disk (roughly the day's size in memory, per kind). ``remove`` (or leaving the ``with``
block, also on failure) deletes the folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.ipc as ipc

from complaints.warehouse.storage import Lock


class Spill:
    """The parts of one ingest under ``root``. While it lives, ``<root>.lock`` next to the folder
    is locked (taken before the folder is made, released after it is removed): ``sweep`` tells
    a killed ingest's folder (a task timeout's SIGKILL, the OOM killer) from a live one by it."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.parent.mkdir(parents=True, exist_ok=True)
        self._lock = Lock(self.root.parent, self.root.name)
        self._lock.acquire()
        try:
            self.root.mkdir(exist_ok=False)
        except BaseException:
            self._unlock()
            raise

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    @staticmethod
    def sweep(parent: Path) -> list[str]:
        """Remove the folders under ``parent`` that no live ingest holds; their names."""
        parent = Path(parent)
        found = {p.name for p in parent.glob("*") if p.is_dir()}
        found |= {p.name[: -len(".lock")] for p in parent.glob("*.lock")}  # killed before mkdir
        removed = []
        for name in sorted(found):
            lock = Lock(parent, name)
            if not lock.acquire(blocking=False):
                continue  # a live ingest's
            try:
                shutil.rmtree(parent / name, ignore_errors=True)
                lock.path.unlink(missing_ok=True)
                removed.append(name)
            finally:
                lock.release()
        return removed

    def _unlock(self) -> None:
        self._lock.path.unlink(missing_ok=True)
        self._lock.release()

    def path(self, kind: str, index: int) -> Path:
        return self.root / kind / f"part-{index:06d}.arrow"

    def write(self, kind: str, index: int, table: pa.Table) -> None:
        path = self.path(kind, index)
        path.parent.mkdir(exist_ok=True)
        with ipc.new_file(path, table.schema) as writer:
            writer.write_table(table)

    def read(self, kind: str, index: int) -> pa.Table:
        with ipc.open_file(self.path(kind, index)) as reader:
            return reader.read_all()

    def files(self, kind: str) -> list[str]:
        return sorted(str(p) for p in (self.root / kind).glob("part-*.arrow"))

    def dataset(self, kind: str, schema: pa.Schema) -> ds.Dataset:
        """Every part of ``kind``, in batch order, read as ``schema`` (other columns left out,
        missing ones null)."""
        return ds.dataset(self.files(kind), schema=schema, format="ipc")

    def clear(self, kind: str) -> None:
        shutil.rmtree(self.root / kind, ignore_errors=True)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self._unlock()
