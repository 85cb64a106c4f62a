"""complaint_current: one row per complaint, its latest version, kept exact under reruns.

The latest version is the one with the greatest ``(updated_at, seen_day, version_seq)``: a newer
update wins, an equal one seen on a later day wins, and inside one day the later delivered row
wins. ``first_seen_day`` / ``last_seen_day`` span the days the complaint appeared in history.

Publishing a day merges that day's versions into the complaints' existing current rows. That is
exact except when a rerun *replaces* a day whose old versions decided a current row (it was the
chosen version, or the first or last day seen): those complaints are recomputed from their whole
history (the other days' files plus the new day), so a rerun that removes a version falls back to
the newest remaining one, and a complaint left with no version at all leaves current.

The merge runs out of core in DuckDB (``complaints.scratchdb``: a memory limit, spilling to a
temporary folder) over pyarrow datasets of the staged history, the source's current files and its
other history days, so memory does not grow with the rows and an S3 root works the same way. The
rewritten (source, month) partitions are streamed out of one query, months interleaved, into one
file each (``Transaction.put_keyed``); rows inside a file are in no particular order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from complaints import canonical, scratchdb
from complaints.warehouse import layout
from complaints.warehouse.storage import KeyedWriter, Storage
from complaints.warehouse.withdraw import Withdrawal, null_text_where

DEFAULT_TZ = "Asia/Jakarta"
#: rows per batch a merge query hands to the Parquet writer
BATCH_ROWS = 65_536
#: a day with more new current rows (that needed ranking) has them materialised before the months
#: are written: joining and sorting 10,000,000 full rows in one query ran out of DuckDB's memory
#: (3,000,000 did not; measured when the month query still sorted, kept as the safe side)
JOIN_IN_QUERY_ROWS = 1_000_000


def null_rahasia_text(table: pa.Table) -> pa.Table:
    """A rahasia complaint's title and body never leave the institution: set them to null."""
    if table.num_rows == 0:
        return table
    return null_text_where(table, pc.fill_null(table["is_rahasia"], False))


def by_month(batch: pa.RecordBatch) -> Iterator[tuple[str, pa.RecordBatch]]:
    """``(submitted_month, rows)`` pairs of a batch of current rows."""
    month = batch.column("submitted_month")
    bounds = pc.min_max(month)
    if bounds["min"] == bounds["max"]:  # most batches: one month, no copy
        yield bounds["min"].as_py(), batch
        return
    for value in pc.unique(month).to_pylist():
        yield value, batch.filter(pc.equal(month, value))


class NotFresh(ValueError):
    """History rows whose current rows ``FreshCurrent`` cannot compute as the merge would."""


def submitted_months(submitted_at: pa.Array, timezone: pa.Array) -> pa.Array:
    """``YYYY-MM`` of each submission in its own time zone (``DEFAULT_TZ`` when none), as the
    merge's ``_MONTH`` gives it."""
    zones = pc.fill_null(timezone, DEFAULT_TZ)
    local = None
    for zone in pc.unique(zones).to_pylist():
        try:
            here = pc.local_timestamp(submitted_at.cast(pa.timestamp("us", tz=zone)))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise NotFresh(f"time zone {zone!r}: {exc}") from exc
        local = here if local is None else pc.if_else(pc.equal(zones, zone), here, local)
    if local is None:
        return pa.array([], pa.string())
    if local.null_count:
        raise NotFresh("a version without submitted_at")
    key = pc.add(pc.multiply(pc.year(local), 100), pc.month(local)).dictionary_encode()
    values = key.dictionary.to_pylist()
    if not all(100_001 <= v <= 999_912 for v in values):
        raise NotFresh("a submission year outside 1000-9999")
    labels = pa.array([f"{v // 100:04d}-{v % 100:02d}" for v in values], pa.string())
    return labels.take(key.indices)


class FreshCurrent:
    """complaint_current written beside the history file, for a source-day whose every version
    is its complaint's current row: the source has no current rows yet, the day is not a rerun,
    and (checked by ``DayMerge`` afterwards) no complaint comes twice. That is a new source's
    first day or a backfill into an empty warehouse; the merge would read the staged history
    back to write the same rows (~0.8 s of a 1,000,000-row day).

    ``tee`` hands the history batches on and queues each for a thread of its own that writes
    their current rows (as a third writer beside raw's and history's: in history's thread it
    made that thread the last to finish). ``close`` gives rows per month, or None when a batch
    could not be mapped as the merge maps it (its files are then discarded and the merge writes
    current); ``discard`` stops the thread and deletes the files."""

    _END = object()

    def __init__(self, storage: Storage, rel_of: Callable[[str], str]):
        self.writer = KeyedWriter(storage, rel_of, layout.current_schema(), layout.CURRENT)
        self.failed: str | None = None
        self._error: BaseException | None = None
        self._ended = False
        self._stop = threading.Event()
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self._thread = threading.Thread(target=self._write, name="fresh-current", daemon=True)
        self._thread.start()

    @staticmethod
    def applies(storage: Storage, source_id: str, day: date) -> bool:
        """No current rows of the source yet and no history of the day (not a rerun)."""
        day_dir = layout.day_dir(layout.HISTORY, source_id, day)
        return not storage.list_files(day_dir) and not source_files(storage, source_id)

    def tee(self, history: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in history:
            yield batch
            self._put(batch)
        self._put(self._END)
        self._ended = True

    def _put(self, item) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _write(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if batch is self._END:
                return
            if self.failed is not None or self._error is not None:
                continue  # keep taking batches: the history writer must not wait on this one
            try:
                for month, rows in by_month(fresh_rows(batch)):
                    self.writer.add(month, rows)
            except NotFresh as exc:
                self.failed = str(exc)
            except BaseException as exc:  # re-raised by close
                self._error = exc

    def close(self) -> dict[str, int] | None:
        """Rows per month written (files closed and durable); None: not usable."""
        if not self._ended:
            self.discard()
            return None
        self._thread.join()
        if self._error is not None:
            self.discard()
            raise self._error
        if self.failed is not None:
            self.discard()
            return None
        return self.writer.close()

    def discard(self) -> None:
        self._stop.set()
        try:  # wake a waiting writer thread now rather than at its next poll
            self._queue.put_nowait(self._END)
        except queue.Full:
            pass  # it has batches to take, and sees the stop after the one it is on
        self._thread.join()
        self.writer.discard()


def fresh_rows(history: pa.RecordBatch) -> pa.RecordBatch:
    """The current rows of history rows that are each their complaint's only version."""
    schema = layout.current_schema()
    seen = history.column("seen_day")
    month = submitted_months(history.column("submitted_at"), history.column("timezone"))
    columns = [history.column(name) for name in canonical.FIELD_NAMES]
    return pa.RecordBatch.from_arrays([*columns, seen, seen, seen, month], schema=schema)


def source_files(storage: Storage, source_id: str) -> list[str]:
    """Every complaint_current file of one source (one per month it has complaints in)."""
    months = [layout.current_month(d) for d in storage.list_dirs(layout.CURRENT)]
    files = [layout.current_file(source_id, m) for m in months if m is not None]
    return [f for f in files if storage.exists(f)]


def day_files(storage: Storage, table: str, source_id: str) -> list[str]:
    """Every file of one source in a day-partitioned table (history, raw, quarantine: one per
    day it was published with rows)."""
    folder = f"{table}/source_id={source_id}"
    return [f for f in storage.list_files(folder) if f.endswith(".parquet")]


_COLS = ", ".join(canonical.FIELD_NAMES)
_PUBLIC = ", ".join(
    f"CASE WHEN coalesce(v.is_rahasia, false) THEN NULL ELSE v.{c} END AS {c}"
    if c in ("title", "body")
    else f"v.{c}"
    for c in canonical.FIELD_NAMES
)
_CURRENT_COLS = ", ".join(layout.current_schema().names)

# The latest version of each affected complaint is chosen on the key columns only (``src``: 0 the
# day's history, 1 the other history days, 2 the current row), then its full row is joined back
# by ``new_rows``, a view read once by the query that writes the months: ranking every column
# cost ~3x more, and materialising the full rows in a temp table first cost ~0.8 s of a
# 1,000,000-row day (a bigger day still does, ``JOIN_IN_QUERY_ROWS``). Keys that pick one row
# (``_FULL_ROWS``): (version_seq) in the day's history (one file), (seen_day, version_seq) in the
# other days', complaint_id in current. A source-day that is not a rerun has no candidates from
# other days (1), and one whose complaints have no current rows yet none from current (2): their
# branches are left out (~1-3 ms each per day).
_CANDIDATES = {
    0: """SELECT complaint_id, updated_at, seen_day, version_seq, seen_day AS _first,
      seen_day AS _last, submitted_at, timezone, 0 AS src FROM new_h""",
    1: """SELECT complaint_id, updated_at, seen_day, version_seq, seen_day, seen_day,
      submitted_at, timezone, 1 FROM other_h
      WHERE complaint_id IN (SELECT complaint_id FROM rec)""",
    2: """SELECT complaint_id, updated_at, seen_day, -1, first_seen_day, last_seen_day,
      submitted_at, timezone, 2 FROM existing""",
}
_FULL_ROWS = {
    0: "JOIN new_h v ON k.src = 0 AND v.complaint_id = k.complaint_id "
    "AND v.version_seq = k.version_seq",
    1: "JOIN other_h v ON k.src = 1 AND v.complaint_id = k.complaint_id "
    "AND v.seen_day = k.seen_day AND v.version_seq = k.version_seq",
    2: "JOIN existing v ON k.src = 2 AND v.complaint_id = k.complaint_id",
}
_MONTH = f"strftime(timezone(coalesce(timezone, '{DEFAULT_TZ}'), submitted_at), '%Y-%m')"
_CHOSEN = f"""
CREATE TEMP TABLE chosen AS
WITH cand AS ({{candidates}})
SELECT complaint_id, src, seen_day, version_seq,
  min(_first) OVER w AS first_seen_day, max(_last) OVER w AS last_seen_day,
  {_MONTH} AS submitted_month
FROM cand
WINDOW w AS (PARTITION BY complaint_id)
QUALIFY row_number() OVER (PARTITION BY complaint_id
  ORDER BY updated_at DESC NULLS LAST, seen_day DESC, version_seq DESC) = 1
"""  # noqa: S608 - constants only
_PICKED = f"SELECT {_PUBLIC}, k.seen_day, k.first_seen_day, k.last_seen_day, k.submitted_month"
_FRESH_ROWS = f"""SELECT {_PUBLIC}, v.seen_day, v.seen_day AS first_seen_day,
  v.seen_day AS last_seen_day, {_MONTH} AS submitted_month
FROM new_h v"""  # noqa: S608 - constants only


def _merge_sql(sources: list[int], rerun: bool) -> tuple[str, str]:
    """The ``chosen`` table and the ``new_rows`` query over the given candidate sources."""
    candidates = [_CANDIDATES[s] for s in sources]
    if rerun and 2 in sources:  # a complaint to recompute is taken from its history only
        i = sources.index(2)
        candidates[i] += " WHERE complaint_id NOT IN (SELECT complaint_id FROM rec)"
    chosen = _CHOSEN.format(candidates=" UNION ALL ".join(candidates))
    rows = " UNION ALL ".join(f"{_PICKED} FROM chosen k {_FULL_ROWS[s]}" for s in sources)
    return chosen, rows


class DayMerge:
    """The complaint_current partitions one source-day rewrites, computed out of core.

    ``new_history`` are the day's staged history files. Before the merge: ``affected`` (the
    complaints the day touches or touched before a rerun), ``new_rows`` (their new current
    rows), ``months`` (every partition that changes) and ``withdrawal`` (text to withdraw from
    versions before a rahasia one, ``withdraw``); ``partitions()`` streams the complete
    replacement of every changed month. Use as a context manager (it owns a DuckDB cursor).
    """

    def __init__(
        self,
        storage: Storage,
        source_id: str,
        day: date,
        new_history: list[str],
        prewritten: dict[str, int] | None = None,
    ):
        con = scratchdb.cursor()
        self.con = con
        self._storage = storage
        self.source_id = source_id
        day_dir = layout.day_dir(layout.HISTORY, source_id, day)
        old_day = [f for f in storage.list_files(day_dir) if f.endswith(".parquet")]
        self._current = source_files(storage, source_id)
        rerun = bool(old_day)
        self._register("new_h", new_history, layout.history_schema())
        ids = "SELECT DISTINCT complaint_id FROM new_h"
        if rerun:
            self._register("old_day", old_day, layout.history_schema())
            ids = "SELECT complaint_id FROM new_h UNION SELECT complaint_id FROM old_day"
        con.execute(f"CREATE TEMP TABLE affected AS {ids}")  # noqa: S608 - fixed names
        has_existing = bool(self._current or rerun) and self._existing()
        #: ``existing`` holds the affected complaints' current rows
        self.has_existing = has_existing
        other = self._other_days(day, day_dir) if rerun else []
        sources = [0] + ([1] if other else []) + ([2] if has_existing else [])
        counts = "SELECT (SELECT count(*) FROM affected), (SELECT count(*) FROM new_h)"
        self.affected, delivered = con.sql(counts).fetchall()[0]
        #: text to withdraw from versions before a rahasia one (``withdraw``); none unless a
        #: complaint comes twice or has a current row already
        self.withdrawal: Withdrawal | None = None
        #: ``prewritten``'s files (``FreshCurrent``) are the new partitions: nothing to merge
        self.prewritten = sources == [0] and self.affected == delivered and prewritten is not None
        if self.prewritten:
            self.new_rows = self.affected
            self.months = sorted(prewritten)
            return
        if sources == [0] and self.affected == delivered:
            # every complaint of the day is new to current and delivered once: its one version
            # is its current row, no ranking or join back (~1 s of a 1,000,000-row first day)
            con.execute(f"CREATE TEMP VIEW new_rows AS {_FRESH_ROWS}")
            con.execute("CREATE TEMP VIEW chosen AS SELECT submitted_month FROM new_rows")
            self.new_rows = self.affected
        else:
            chosen, rows = _merge_sql(sources, rerun)
            con.execute(chosen)
            self.withdrawal = Withdrawal.find(con, day, has_existing)
            self.new_rows = con.sql("SELECT count(*) FROM chosen").fetchall()[0][0]
            kind = "VIEW" if self.new_rows <= JOIN_IN_QUERY_ROWS else "TABLE"
            con.execute(f"CREATE TEMP {kind} new_rows AS {rows}")
        months = "SELECT DISTINCT submitted_month FROM chosen"
        if has_existing:
            months += " UNION SELECT submitted_month FROM existing"
        self.months = [m for (m,) in con.sql(months + " ORDER BY 1").fetchall() if m is not None]

    def _existing(self) -> bool:
        """The ``existing`` table: the current rows of the affected complaints; any?"""
        self._register("cur", self._holding_affected(), layout.current_schema())
        self.con.execute(
            "CREATE TEMP TABLE existing AS SELECT * FROM cur "
            "WHERE complaint_id IN (SELECT complaint_id FROM affected)"
        )
        return self.con.sql("SELECT count(*) FROM existing").fetchall()[0][0] > 0

    def current_view(self) -> str | None:
        """``cur_all``, a view of every current row of the source before the day (None when it
        has none): complaints the day brings no version of, such as its quarantined rows'."""
        if not self._current:
            return None
        self._register("cur_all", self._current, layout.current_schema())
        return "cur_all"

    def _holding_affected(self) -> list[str]:
        """The source's current files holding a row of an affected complaint, found from their
        ``complaint_id`` column alone: reading every column of every month file to keep the
        few matching rows took ~0.35 s for a big source's 36 files (3.2M rows) where the ids
        take ~0.08 s and the full rows of the 3 files that match ~0.03 s. Over S3 (a pyarrow
        dataset, no file names in DuckDB) every file is read as before."""
        if not self._current or not self._storage.is_local:
            return self._current
        by_path = {self._storage.full(f): f for f in self._current}
        found = self.con.sql(
            f"""SELECT DISTINCT filename FROM read_parquet({_sql_list(by_path)}, filename = true)
            WHERE complaint_id IN (SELECT complaint_id FROM affected)"""  # noqa: S608 - our own paths
        ).fetchall()
        return sorted(by_path[name] for (name,) in found)

    def _other_days(self, day: date, day_dir: str) -> list[str]:
        """For a rerun: the ``rec`` table, the complaints recomputed from their whole history
        because the replaced day decided their current row (chosen version, first or last seen
        day), and, when there are any, the source's other history days as ``other_h``."""
        self.con.execute(
            """CREATE TEMP TABLE rec AS SELECT DISTINCT complaint_id FROM old_day o
            WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.complaint_id = o.complaint_id
              AND NOT coalesce(e.first_seen_day = $d OR e.last_seen_day = $d
                               OR e.seen_day = $d, false))""",
            {"d": day},
        )
        if not self.con.sql("SELECT count(*) FROM rec").fetchall()[0][0]:
            return []
        prefix = day_dir + "/"
        other = [
            f
            for f in day_files(self._storage, layout.HISTORY, self.source_id)
            if not f.startswith(prefix)
        ]
        if other:
            self._register("other_h", other, layout.history_schema())
        return other

    def _register(self, name: str, files: list[str], schema: pa.Schema) -> None:
        """A view over Parquet files: DuckDB's own reader for a local root (it stays within
        ``scratchdb.MEMORY_LIMIT``; a pyarrow scan does not), a pyarrow dataset for S3."""
        if files and self._storage.is_local:
            source = f"read_parquet({_sql_list(self._storage.full(f) for f in files)})"
        else:
            source = f"_{name}"
            rows = schema.empty_table()
            if files:
                full = [self._storage.full(f) for f in files]
                rows = ds.dataset(full, schema=schema, filesystem=self._storage.fs)
            self.con.register(source, rows)
        columns = ", ".join(schema.names)
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {columns} FROM {source}")  # noqa: S608 - our own paths and column names

    def old_files(self, month: str) -> list[str]:
        """The source's current files of the month today (to be replaced)."""
        return [
            f for f in self._current if layout.partition_values(f).get("submitted_month") == month
        ]

    def partitions(self) -> Iterator[tuple[str, pa.RecordBatch]]:
        """Every changed month's complete new partition (untouched rows kept, touched rows
        replaced) as ``(month, batch)`` pairs, months interleaved, rows in no particular order:
        one query streams them all. Sorting them (by month, then ``complaint_id``) cost more than
        the rest of the merge (~1.5 s of a 1,000,000-row day: DuckDB materialises the full rows
        to sort them), and one sort over a 10M-row day ran out of DuckDB's memory. A month
        whose partition ends up empty yields nothing."""
        schema = layout.current_schema()
        self._register("cur_months", [f for m in self.months for f in self.old_files(m)], schema)
        query = self.con.sql(
            f"""SELECT {_CURRENT_COLS} FROM cur_months
            WHERE complaint_id NOT IN (SELECT complaint_id FROM affected)
            UNION ALL SELECT {_CURRENT_COLS} FROM new_rows"""  # noqa: S608 - fixed column names
        )
        for batch in query.to_arrow_reader(BATCH_ROWS):
            yield from by_month(batch.cast(schema))

    def __enter__(self) -> DayMerge:
        return self

    def __exit__(self, *exc) -> None:
        self.con.close()


def _sql_list(paths: Iterable[str]) -> str:
    """``['a', 'b']``: file paths as a DuckDB list literal."""
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
