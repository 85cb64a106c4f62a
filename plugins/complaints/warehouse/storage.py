"""The warehouse's file system: a local folder or ``s3://bucket/prefix``.

Both speak relative paths (``table/key=value/part-0.parquet``). The local store renames with
``os.replace`` and fsyncs files and folders, so a file appears whole or not at all and survives
a power cut once its rename returned. S3 has no rename: ``move`` is copy + delete, and each object
appears whole (PUT and COPY are atomic per object).

S3 options come from the environment: ``COMPLAINTS_S3_ENDPOINT_URL`` (e.g. MinIO), and the usual
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION`` /
``AWS_DEFAULT_REGION``.

Locks are ``fcntl.flock`` on files in a local folder (``<root>/_locks`` for a local warehouse,
``<state_dir>/warehouse-locks`` for S3): they serialise writers on one host only.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Mapping
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

#: listings of a folder being created by another writer, before the error is raised
LISTING_ATTEMPTS = 5

#: rows buffered into one row group by ``write_parquet_batches``
ROW_GROUP_ROWS = 65_536
#: rows ``write_parquet_keyed`` buffers over all its files before it writes the biggest buffer
KEYED_BUFFER_ROWS = 4 * ROW_GROUP_ROWS
#: free text and hashes: no query prunes on them, and their min/max statistics cost ~35 % of
#: writing a history file (0.27 s -> 0.17 s for 200,000 rows). Everything else keeps statistics.
NO_STATISTICS = frozenset({"title", "body", "reporter_key"})
#: columns written without a dictionary (as are timestamps: ``_nearly_unique``)
UNIQUE_COLUMNS = frozenset({"complaint_id", "reporter_key", "version_seq"})


#: tables that archive what the sources sent (all text, one file per source-day, read whole when
#: a day is reprocessed): written without statistics or dictionary pages. On the 1,000,000-row
#: B1 raw file (23 text columns) that writes in 1.26 s instead of 1.95 s, 16 % bigger.
ARCHIVE_TABLES = frozenset({"raw"})


def writer_options(schema: pa.Schema, table: str | None = None) -> dict:
    """``ParquetWriter`` options for a warehouse file of ``table``. Measured on a 200,000-row
    history and raw file: snappy (the default) is kept, zstd level 1 made files ~40 % smaller but
    writing 15-60 % slower, no compression saved < 10 % for 1.5x bigger files; dictionary
    encoding is kept for the queried tables' columns whose values repeat (pyarrow falls back to
    plain pages when a dictionary grows too big, e.g. for free text)."""
    if table in ARCHIVE_TABLES:
        return {"write_statistics": False, "use_dictionary": False}
    return {
        "write_statistics": [n for n in schema.names if n not in NO_STATISTICS],
        "use_dictionary": [n for n in schema.names if not _nearly_unique(schema.field(n))],
    }


def _nearly_unique(field: pa.Field) -> bool:
    """A column whose values nearly all differ (ids, hashes, instants): a dictionary saves
    little or nothing there, yet pyarrow hashes every value into one (and for ids and hashes
    fills a dictionary page with the first ~50,000 values of every row group, then throws it
    away for plain pages). Written plain: B1's 1,000,000-row history file 1.72 s -> 1.20 s,
    109 -> 108 MB (medians of 5 writes)."""
    return field.name in UNIQUE_COLUMNS or pa.types.is_timestamp(field.type)


def temp_name(name: str) -> str:
    """The hidden name a local atomic write fills before renaming it to ``name``."""
    return f".{name}.tmp"


class Lock:
    """An exclusive ``flock`` on ``<folder>/<key>.lock``; conflicts across processes and threads."""

    def __init__(self, folder: Path, key: str):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{key}.lock"
        self._fd: int | None = None

    def acquire(self, blocking: bool = True) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class Storage(ABC):
    """Common operations over a pyarrow file system rooted at ``base``."""

    fs: pafs.FileSystem
    base: str
    is_local: bool
    lock_dir: Path

    def full(self, rel: str) -> str:
        return f"{self.base}/{rel}" if rel else self.base

    @abstractmethod
    def uri(self, rel: str = "") -> str: ...

    # -- reading -----------------------------------------------------------------------------
    def exists(self, rel: str) -> bool:
        return self.fs.get_file_info(self.full(rel)).type == pafs.FileType.File

    def list_files(self, rel: str = "") -> list[str]:
        """Every file under ``rel`` (recursive), as sorted relative paths; [] if missing."""
        cut = len(self.base) + 1
        return sorted(
            info.path[cut:]
            for info in self._listing(rel, recursive=True)
            if info.type == pafs.FileType.File
        )

    def list_dirs(self, rel: str = "") -> list[str]:
        """Names of the folders directly under ``rel``."""
        return sorted(
            info.base_name
            for info in self._listing(rel, recursive=False)
            if info.type == pafs.FileType.Directory
        )

    def _listing(self, rel: str, recursive: bool) -> list[pafs.FileInfo]:
        """List ``rel``, missing or not, also while another writer creates it.

        Arrow's ``allow_not_found`` lists first and checks existence after: a folder created
        by another thread between the two (``_staging`` on the first transactions) fails the
        listing with ``FileNotFoundError`` although the folder is there. Listed again, it is."""
        selector = pafs.FileSelector(self.full(rel), recursive=recursive, allow_not_found=True)
        for _ in range(LISTING_ATTEMPTS - 1):
            try:
                return self.fs.get_file_info(selector)
            except FileNotFoundError:
                continue
        return self.fs.get_file_info(selector)

    def read_bytes(self, rel: str) -> bytes:
        with self.fs.open_input_stream(self.full(rel)) as f:
            return f.read()

    def read_parquet(self, rel: str, columns: list[str] | None = None) -> pa.Table:
        return pq.read_table(self.full(rel), filesystem=self.fs, columns=columns)

    def parquet_rows(self, rel: str) -> int:
        with self.fs.open_input_file(self.full(rel)) as f:
            return pq.ParquetFile(f).metadata.num_rows

    def read_schema(self, rel: str) -> pa.Schema:
        with self.fs.open_input_file(self.full(rel)) as f:
            return pq.read_schema(f)

    # -- writing -----------------------------------------------------------------------------
    @abstractmethod
    def write_parquet(self, rel: str, table: pa.Table) -> None: ...

    def write_parquet_batches(
        self,
        rel: str,
        schema: pa.Schema,
        batches: Iterable[pa.RecordBatch],
        table: str | None = None,
    ) -> int:
        """Stream ``batches`` into one Parquet file (row groups of ``ROW_GROUP_ROWS``) of the
        warehouse table ``table``; rows. No rows writes no file."""
        keyed = ((None, batch) for batch in batches)
        return self.write_parquet_keyed({None: rel}, schema, keyed, table)[None]

    def write_parquet_keyed(
        self,
        rels: Mapping[Hashable, str],
        schema: pa.Schema,
        keyed: Iterable[tuple[Hashable, pa.RecordBatch]],
        table: str | None = None,
    ) -> dict[Hashable, int]:
        """Stream ``(key, batch)`` pairs, keys in any order, into one Parquet file per key
        (``rels[key]``) of the warehouse table ``table`` (see ``KeyedWriter``); rows per key
        (0: no file written)."""
        writer = KeyedWriter(self, rels.__getitem__, schema, table)
        try:
            for key, batch in keyed:
                if key not in rels:
                    raise ValueError(f"rows for {key!r}, which has no file")
                writer.add(key, batch)
        except BaseException:
            writer.abort()
            raise
        return dict.fromkeys(rels, 0) | writer.close()

    def _parquet_sink(self, rel: str) -> str:
        return self.full(rel)

    def _written(self, rel: str) -> None:  # noqa: B027 - only local files need an fsync
        """Make a file written by ``write_parquet_batches`` durable."""

    @abstractmethod
    def write_bytes_atomic(self, rel: str, data: bytes) -> None: ...

    @abstractmethod
    def move(self, src: str, dst: str) -> None: ...

    def sync_dirs(self, rels: set[str]) -> None:  # noqa: B027 - only local storage has dirs to sync
        """Make completed renames durable (local only)."""

    def delete(self, rel: str) -> None:
        if self.exists(rel):
            self.fs.delete_file(self.full(rel))

    def rmtree(self, rel: str) -> None:
        info = self.fs.get_file_info(self.full(rel))
        if info.type == pafs.FileType.Directory:
            self.fs.delete_dir(self.full(rel))

    def lock(self, key: str) -> Lock:
        return Lock(self.lock_dir, key)


class LocalStorage(Storage):
    is_local = True

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.base = str(self.root)
        self.fs = pafs.LocalFileSystem()
        self.lock_dir = self.root / "_locks"

    def uri(self, rel: str = "") -> str:
        return self.full(rel)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def write_parquet(self, rel: str, table: pa.Table) -> None:
        path = self.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, **writer_options(table.schema))
        _fsync_file(path)

    def _parquet_sink(self, rel: str) -> str:
        self.path(rel).parent.mkdir(parents=True, exist_ok=True)
        return self.full(rel)

    def _written(self, rel: str) -> None:
        _fsync_file(self.path(rel))

    def write_bytes_atomic(self, rel: str, data: bytes) -> None:
        path = self.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(temp_name(path.name))
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)

    def move(self, src: str, dst: str) -> None:
        target = self.path(dst)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path(src), target)

    def sync_dirs(self, rels: set[str]) -> None:  # noqa: B027 - only local storage has dirs to sync
        for rel in sorted(rels):
            if self.path(rel).is_dir():
                _fsync_dir(self.path(rel))

    def delete(self, rel: str) -> None:
        self.path(rel).unlink(missing_ok=True)

    def rmtree(self, rel: str) -> None:
        shutil.rmtree(self.path(rel), ignore_errors=True)


class S3Storage(Storage):
    is_local = False

    def __init__(self, url: str, lock_dir: Path):
        bucket_prefix = url[len("s3://") :].strip("/")
        if not bucket_prefix:
            raise ValueError(f"S3 warehouse needs a bucket: {url!r}")
        self.base = bucket_prefix
        endpoint = os.environ.get("COMPLAINTS_S3_ENDPOINT_URL")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        kwargs: dict = {}
        if endpoint:
            kwargs["endpoint_override"] = endpoint
        if region:
            kwargs["region"] = region
        if os.environ.get("AWS_ACCESS_KEY_ID"):
            kwargs["access_key"] = os.environ["AWS_ACCESS_KEY_ID"]
            kwargs["secret_key"] = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
            if os.environ.get("AWS_SESSION_TOKEN"):
                kwargs["session_token"] = os.environ["AWS_SESSION_TOKEN"]
        self.fs = pafs.S3FileSystem(**kwargs)
        safe = bucket_prefix.replace("/", "_")
        self.lock_dir = lock_dir / safe

    def uri(self, rel: str = "") -> str:
        return "s3://" + self.full(rel)

    def write_parquet(self, rel: str, table: pa.Table) -> None:
        pq.write_table(table, self.full(rel), filesystem=self.fs, **writer_options(table.schema))

    def write_bytes_atomic(self, rel: str, data: bytes) -> None:
        with self.fs.open_output_stream(self.full(rel)) as f:  # one PUT: atomic per object
            f.write(data)

    def move(self, src: str, dst: str) -> None:
        self.fs.copy_file(self.full(src), self.full(dst))
        self.fs.delete_file(self.full(src))


def open_storage(root: str, state_dir: Path) -> Storage:
    if root.startswith("s3://"):
        return S3Storage(root, state_dir / "warehouse-locks")
    return LocalStorage(root)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class KeyedWriter:
    """One Parquet file per key of the warehouse table ``table``, fed ``(key, batch)`` by
    ``add`` in any key order; ``rel_of(key)`` names a key's file when its first rows come.

    A key's rows are buffered into row groups of ``ROW_GROUP_ROWS``; while more than
    ``KEYED_BUFFER_ROWS`` rows wait over all keys, the biggest buffer is written out as a
    smaller row group, so memory does not grow with the number of keys. ``close`` writes what
    is left and makes the files durable (rows per key that got any); ``abort`` only closes them."""

    def __init__(
        self,
        storage: Storage,
        rel_of: Callable[[Hashable], str],
        schema: pa.Schema,
        table: str | None = None,
    ):
        self.storage = storage
        self.rel_of = rel_of
        self.schema = schema
        self.options = writer_options(schema, table)
        self.rows: dict[Hashable, int] = {}
        self.rels: dict[Hashable, str] = {}
        self._buffered: dict[Hashable, list[pa.RecordBatch]] = {}
        self._pending: dict[Hashable, int] = {}
        self._files = ExitStack()
        self._writers: dict[Hashable, pq.ParquetWriter] = {}

    def add(self, key: Hashable, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        self.rows[key] = self.rows.get(key, 0) + batch.num_rows
        self._buffered.setdefault(key, []).append(batch)
        self._pending[key] = self._pending.get(key, 0) + batch.num_rows
        if self._pending[key] >= ROW_GROUP_ROWS:
            self._flush(key)
        elif sum(self._pending.values()) > KEYED_BUFFER_ROWS:
            self._flush(max(self._pending, key=self._pending.__getitem__))

    def _flush(self, key: Hashable) -> None:
        if key not in self._writers:
            self.rels[key] = self.rel_of(key)
            sink = self.storage._parquet_sink(self.rels[key])
            writer = pq.ParquetWriter(sink, self.schema, filesystem=self.storage.fs, **self.options)
            self._writers[key] = self._files.enter_context(writer)
        self._writers[key].write_table(pa.Table.from_batches(self._buffered.pop(key), self.schema))
        self._pending.pop(key)

    def close(self) -> dict[Hashable, int]:
        try:
            for key in list(self._buffered):
                self._flush(key)
        finally:
            self._files.close()
        for key in self._writers:
            self.storage._written(self.rels[key])
        return dict(self.rows)

    def abort(self) -> None:
        self._files.close()

    def discard(self) -> None:
        """Close and delete every file written."""
        self.abort()
        for rel in self.rels.values():
            self.storage.delete(rel)
