"""The Parquet warehouse: layers, atomic idempotent publishing, status history, analysts' access.

See docs/warehouse.md for the tables, the layout and the guarantees.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from complaints.arrowpool import use_preferred_pool
from complaints.config import Settings
from complaints.warehouse import catalog, layout, publish
from complaints.warehouse import compact as _compact
from complaints.warehouse.journal import Transaction, WarehouseError, recover
from complaints.warehouse.rows import Rows
from complaints.warehouse.storage import Storage, open_storage
from complaints.warehouse.withdraw import RawText

__all__ = ["Warehouse", "WarehouseError"]

#: what ``last_cursor`` and ``recent_row_counts`` read of the run records
_RUN_COLUMNS = ["day", "status", "started_at", "finished_at", "cursor_after", "rows_read"]


class Warehouse:
    """The warehouse at ``settings.warehouse`` (a local folder or ``s3://bucket/prefix``)."""

    def __init__(self, settings: Settings | None = None, *, root: str | None = None):
        if settings is None and root is None:
            settings = Settings.from_env()
        self.root = str(root if root is not None else settings.warehouse)
        state_dir = settings.state_dir if settings is not None else Path(".").resolve() / "var"
        self.storage: Storage = open_storage(self.root, state_dir)

    def __repr__(self) -> str:
        return f"Warehouse({self.root!r})"

    # -- writing -------------------------------------------------------------------------------
    def _transaction(self, key: str, stage) -> dict:
        with self.storage.lock(key):
            recover(self.storage, held=frozenset({key}))
            tx = Transaction(self.storage, key)
            try:
                result = stage(tx)
                result.update(tx.commit())
            except BaseException:
                tx.abort()
                raise
            return result

    def publish_source_day(
        self,
        source_id: str,
        day: date,
        *,
        raw: Rows | None,
        versions: Rows,
        quarantine: Rows,
        run: dict,
        raw_text: RawText | None = None,
    ) -> dict:
        """Publish one source-day (raw, history, current, quarantine, run) as one atomic unit.

        ``raw``, ``versions`` and ``quarantine`` are each a pyarrow Table or a pyarrow Dataset
        (e.g. the day's spilled Parquet files); the result is the same either way. Versions
        that come before a rahasia version of their complaint lose their text, in this day's
        files and earlier days' (``warehouse.withdraw``); ``raw_text``
        (``privacy.RawText.of(mapping)``) finds their rows in the raw layer, which is left as
        it is without one.
        """
        layout.check_value(source_id)
        use_preferred_pool()  # as an ingest's process does (a backfill, a benchmark)
        _compact.upgrade_current_layout(self.storage, source_id)
        return self._transaction(
            f"source-{source_id}",
            lambda tx: publish.stage_source_day(
                tx,
                source_id,
                day,
                raw=raw,
                versions=versions,
                quarantine=quarantine,
                run=run,
                raw_text=raw_text,
            ),
        )

    def record_run(
        self, source_id: str, day: date, run: dict, *, quarantine: Rows | None = None
    ) -> dict:
        """Keep a run record (failed or rejected day); published complaint data is untouched.

        A rejected day passes its rows as ``quarantine`` so that none is lost: they replace the
        day's quarantine partition, in the same atomic unit as the run record.
        """
        layout.check_value(source_id)

        def stage(tx: Transaction) -> dict:
            runs = publish.run_table(source_id, day, run, "failed")
            run_id = runs["run_id"][0].as_py()
            if quarantine is not None:
                publish.replace_quarantine(tx, source_id, day, quarantine)
            tx.put(layout.run_file(source_id, day, run_id), runs)
            return {"source_id": source_id, "day": day.isoformat(), "run_id": run_id}

        return self._transaction(f"source-{source_id}", stage)

    def write_table(
        self, name: str, table: pa.Table | pd.DataFrame, *, partition: dict[str, str]
    ) -> dict:
        """Atomically replace one partition of a derived table (e.g. a metrics table)."""
        layout.check_name(name)
        data = publish.to_arrow(table)
        return self._transaction(
            f"table-{name}", lambda tx: publish.stage_partition(tx, name, data, partition)
        )

    def withdraw_text(self, source_id: str, raw_text: RawText | None = None) -> dict:
        """Apply the rahasia rule to one source's whole history (``warehouse.withdraw``): every
        version before one of its complaint's rahasia versions loses its text, in history and
        (with ``raw_text``) the raw layer. Publishes keep the rule day by day; this is for a
        warehouse written before they did. One transaction under the source's lock."""
        layout.check_value(source_id)
        return self._transaction(
            f"source-{source_id}", lambda tx: publish.stage_withdraw_sweep(tx, source_id, raw_text)
        )

    def compact(self, table: str | None = None) -> dict:
        names = [table] if table else self.tables()
        return _compact.compact(self.storage, names)

    def recover(self) -> list[str]:
        """Roll interrupted publishes forward (journal written) or back (no journal)."""
        return recover(self.storage)

    # -- reading -------------------------------------------------------------------------------
    def tables(self) -> list[str]:
        return catalog.table_names(self.storage)

    def dataset(self, table: str) -> ds.Dataset:
        """A pyarrow dataset over one table (works for local and S3 roots)."""
        if table == layout.CURRENT:
            _compact.upgrade_current_layout(self.storage)
        return catalog.dataset(self.storage, table)

    def read(self, table: str, filter: ds.Expression | None = None) -> pa.Table:
        return self.dataset(table).to_table(filter=filter)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with a view per table."""
        self.recover()
        _compact.upgrade_current_layout(self.storage)
        return catalog.connect(self.storage)

    def refresh_catalog(self) -> Path:
        _compact.upgrade_current_layout(self.storage)
        return catalog.refresh_catalog(self.storage)

    def upgrade_layout(self) -> list[str]:
        """Move complaint_current from the old source-first folders to month first."""
        return _compact.upgrade_current_layout(self.storage)

    def _runs(self, source_id: str) -> pa.Table:
        """The run columns cursors and volume bands need, from all of a source's run files in
        one dataset scan (a file per attempt: reading them one by one cost ~1 ms each)."""
        files = [
            self.storage.full(f)
            for f in self.storage.list_files(f"{layout.INGEST_RUNS}/source_id={source_id}")
            if f.endswith(".parquet")
        ]
        schema = layout.known_schema(layout.INGEST_RUNS)
        if not files:
            return schema.empty_table().select(_RUN_COLUMNS)
        runs = ds.dataset(files, schema=schema, format="parquet", filesystem=self.storage.fs)
        return runs.to_table(columns=_RUN_COLUMNS)

    def _published_days(self, source_id: str) -> pa.Table:
        """The last published attempt of each day, in day order."""
        runs = self._runs(source_id)
        runs = runs.filter(pc.equal(runs["status"], "published"))
        runs = runs.sort_by(
            [("day", "ascending"), ("finished_at", "descending"), ("started_at", "descending")]
        )
        days = runs["day"].to_pylist()
        keep = [i == 0 or days[i] != days[i - 1] for i in range(len(days))]
        return runs.filter(pa.array(keep, pa.bool_()))

    def last_cursor(self, source_id: str) -> str | None:
        """``cursor_after`` of the latest published day's run (None before the first)."""
        days = self._published_days(source_id)
        cursors = [c for c in days["cursor_after"].to_pylist() if c]
        return cursors[-1] if cursors else None

    def recent_row_counts(self, source_id: str, before: date, n: int = 14) -> list[int]:
        """``rows_read`` of the last ``n`` published days before ``before``, oldest first."""
        days = self._published_days(source_id)
        days = days.filter(pc.less(days["day"], pa.scalar(before, pa.date32())))
        counts = [int(c or 0) for c in days["rows_read"].to_pylist()]
        return counts[-n:] if n > 0 else []
