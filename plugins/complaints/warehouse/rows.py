"""What the warehouse accepts as a table's rows: a pyarrow Table or a pyarrow Dataset.

Either is read batch by batch (a Dataset without read-ahead), so publishing holds a few
batches in memory, not the day.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

Rows = pa.Table | ds.Dataset

BATCH_ROWS = 65_536
#: items ``read_ahead`` produces before they are consumed
READ_AHEAD = 2

T = TypeVar("T")


def batches(rows: Rows, schema: pa.Schema | None = None) -> Iterator[pa.RecordBatch]:
    """The rows in batches, with ``schema``'s columns (a Dataset of no files gives none)."""
    if isinstance(rows, ds.Dataset):
        if len(rows.schema) == 0 and schema is not None:
            return iter(())
        columns = None if schema is None else schema.names
        if isinstance(rows, ds.FileSystemDataset) and isinstance(rows.format, ds.ParquetFileFormat):
            return _parquet_batches(rows, columns)
        if isinstance(rows, ds.FileSystemDataset) and isinstance(rows.format, ds.IpcFileFormat):
            return _ipc_batches(rows, columns)
        return iter(
            rows.to_batches(
                columns=columns, batch_size=BATCH_ROWS, batch_readahead=1, fragment_readahead=1
            )
        )
    table = rows if schema is None else rows.select(schema.names)
    return iter(table.to_batches(max_chunksize=BATCH_ROWS))


def _parquet_batches(dataset: ds.FileSystemDataset, columns: list[str] | None):
    """File by file, decoding ``BATCH_ROWS`` at a time: a dataset scan decodes whole row
    groups with read-ahead (~600 MB for 250,000-row groups of ~20 columns)."""
    target = (
        dataset.schema if columns is None else pa.schema([dataset.schema.field(c) for c in columns])
    )
    for path in dataset.files:
        with pq.ParquetFile(path, filesystem=dataset.filesystem) as f:
            for batch in f.iter_batches(batch_size=BATCH_ROWS, columns=columns, use_threads=False):
                yield batch.cast(target)


def _ipc_batches(dataset: ds.FileSystemDataset, columns: list[str] | None):
    """File by file, one record batch at a time, conformed to the dataset's schema (columns a
    file lacks are null): a dataset scan of Arrow IPC files kept decoding ahead of a slow
    consumer (the Parquet writers), ~0.5 GB per million rows of a day."""
    target = (
        dataset.schema if columns is None else pa.schema([dataset.schema.field(c) for c in columns])
    )
    for path in dataset.files:
        with dataset.filesystem.open_input_file(path) as f:
            reader = pa.ipc.open_file(f)
            for i in range(reader.num_record_batches):
                batch = reader.get_batch(i)
                yield pa.RecordBatch.from_arrays(
                    [
                        batch.column(field.name).cast(field.type)
                        if field.name in batch.schema.names
                        else pa.nulls(batch.num_rows, field.type)
                        for field in target
                    ],
                    schema=target,
                )


def read_ahead(items: Iterable[T], depth: int = READ_AHEAD) -> Iterator[T]:
    """``items`` in order, produced in a thread up to ``depth`` ahead of the consumer: a DuckDB
    query fetching the next batches while the previous ones are encoded to Parquet (both
    release the GIL). The producer's error is raised at its place in the sequence; when the
    consumer stops early, the producer stops at its next item."""
    buffer: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    done = object()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put((False, exc))
            return
        put((True, done))

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = buffer.get()
            if not ok:
                raise item
            if item is done:
                return
            yield item
    finally:
        stop.set()
        thread.join()
