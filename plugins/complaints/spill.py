"""A source-day's batches as local Arrow IPC parts while it is being ingested.

``Spill`` keeps, per kind of table (raw rows, valid versions, quarantine rows, key records ...),
one uncompressed Arrow IPC file per batch under its folder (``<data_dir>/spill/<run_id>``), so a day never has
to be held in memory: a part can be read back and rewritten on its own, and the parts of a kind
are handed on as one pyarrow Dataset. The parts live only for the ingest, so they are written in
Arrow's own format without compression: about five times faster than Parquet with lz4, at the
cost of local disk (roughly the day's size in memory, per kind). ``remove`` (or leaving the ``with`` block, also on
failure) deletes the folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.ipc as ipc


class Spill:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=False)

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

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
