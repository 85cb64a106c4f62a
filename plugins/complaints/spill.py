"""A source-day's batches as local Parquet parts while it is being ingested.

``Spill`` keeps, per kind of table (raw rows, valid versions, quarantine rows, key records ...),
one Parquet file per batch under its folder (``<data_dir>/spill/<run_id>``), so a day never has
to be held in memory: a part can be read back and rewritten on its own, and the parts of a kind
are handed on as one pyarrow Dataset. ``remove`` (or leaving the ``with`` block, also on
failure) deletes the folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq


class Spill:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=False)

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def path(self, kind: str, index: int) -> Path:
        return self.root / kind / f"part-{index:06d}.parquet"

    def write(self, kind: str, index: int, table: pa.Table) -> None:
        path = self.path(kind, index)
        path.parent.mkdir(exist_ok=True)
        pq.write_table(table, path, compression="lz4")

    def read(self, kind: str, index: int) -> pa.Table:
        return pq.read_table(self.path(kind, index))

    def files(self, kind: str) -> list[str]:
        return sorted(str(p) for p in (self.root / kind).glob("part-*.parquet"))

    def dataset(self, kind: str, schema: pa.Schema) -> ds.Dataset:
        """Every part of ``kind``, in batch order, read as ``schema`` (other columns left out,
        missing ones null)."""
        return ds.dataset(self.files(kind), schema=schema, format="parquet")

    def clear(self, kind: str) -> None:
        shutil.rmtree(self.root / kind, ignore_errors=True)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
