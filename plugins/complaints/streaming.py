"""A source-day mapped and checked batch by batch, with its rows spilled to Parquet parts.

``SourceDay.add`` takes each pseudonymised raw batch as the connector yields it: the raw rows
are spilled, then mapped, checked on their own (``DayAudit.add``) and their valid versions,
quarantine rows and key records spilled too. Only counts and small results stay in memory, so
a day's memory does not grow with its rows. ``finish`` runs the day-level checks (the key rule
over all batches, volume, batch policy) and moves the rows the key rule quarantines.

The outcome is the same as auditing the day's batches concatenated (``pa.concat_tables`` with
``promote_options="permissive"``): when the batches do not all have the same columns (files
with different headers, JSON records with different fields), the raw parts are conformed to
the day's unified schema and the day is mapped and checked again from them.

``in_order`` runs the per-batch work that needs no day state (pseudonymising and mapping) in a
few threads while the next batch is read and the previous one is checked and spilled: that work
is mostly pyarrow kernels, which release the GIL.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from complaints import canonical
from complaints.quality.audit import DayAudit, DayVerdict, with_key_reasons
from complaints.quality.batch import quarantine_every_row
from complaints.quality.keys import KEY_RECORD_SCHEMA, row_hashes
from complaints.spill import Spill
from complaints.tables import QUARANTINE_SCHEMA

EMPTY_RAW = pa.schema([("_row", pa.int64())])
#: batches being worked on or waiting to be consumed: memory stays a few batches whatever the day
IN_FLIGHT = 2

T = TypeVar("T")


def in_order(jobs: Iterable[Callable[[], T]], in_flight: int = IN_FLIGHT) -> Iterator[T]:
    """The jobs' results in job order, the jobs run in ``in_flight`` threads; the next job is
    taken from ``jobs`` only when fewer than ``in_flight`` results are pending. When ``jobs``
    raises, the results of the jobs it gave before are yielded first, then the error."""
    source = iter(jobs)
    pending: deque[Future] = deque()
    pool = ThreadPoolExecutor(in_flight, thread_name_prefix="batch")
    try:
        while True:
            try:
                job = next(source)
            except StopIteration:
                break
            except Exception:
                while pending:
                    yield pending.popleft().result()
                raise
            pending.append(pool.submit(job))
            if len(pending) >= in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # also when a job failed or the consumer stopped: nothing left running
        pool.shutdown(wait=True, cancel_futures=True)


def conform_raw(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns (missing ones null), as a permissive concat gives."""
    columns = [
        table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(len(table), f.type)
        for f in schema
    ]
    return pa.table(columns, schema=schema)


class SourceDay:
    def __init__(self, spill: Spill, new_audit: Callable[[], DayAudit], map_batch, ids: dict):
        self.spill = spill
        # key records without row hashes: ``finish`` hashes only the rows whose key repeats,
        # from the valid and checked-out parts (~0.6 CPU s of a 1,000,000-row day saved)
        self.new_audit = lambda: new_audit(hash_keys=False)
        self.audit = self.new_audit()
        self.map_batch = map_batch  # raw batch -> MappedBatch
        self.ids = ids  # source_id, day, run_id
        self.schemas: list[pa.Schema] = []
        self.bounds: list[tuple[int, int]] = []  # each part's [first _row, end)
        self.same_schema = True

    def add(self, raw: pa.Table, first_row: int, mapped=None) -> None:
        """A pseudonymised raw batch with its ``_row`` numbers from ``first_row``, and
        ``map_batch(raw)`` when already computed."""
        index = len(self.schemas)
        self.spill.write("raw", index, raw)
        self.schemas.append(raw.schema)
        self.bounds.append((first_row, first_row + raw.num_rows))
        self.same_schema = self.same_schema and raw.schema.equals(self.schemas[0])
        if self.same_schema:
            self._check(index, raw, mapped)

    def _check(self, index: int, raw: pa.Table, mapped=None) -> None:
        if mapped is None:
            mapped = self.map_batch(raw)
        outcome = self.audit.add(mapped.rows, mapped.rejects, raw)
        self.spill.write("valid", index, outcome.valid)
        self.spill.write("quarantine", index, outcome.quarantine)
        self.spill.write("keys", index, outcome.keys)
        if outcome.checked_out.num_rows:
            self.spill.write("checked_out", index, outcome.checked_out)

    def _row_hashes(self, rows: np.ndarray) -> pa.Table:
        """``keys.row_hashes`` of the mapped rows with these ``_row`` numbers, each batch's rows
        hashed on their own (as key records hashed with the batch would have been)."""
        wanted = np.unique(rows)
        found = []
        for index, (first, end) in enumerate(self.bounds):
            lo, hi = np.searchsorted(wanted, [first, end])
            if lo == hi:
                continue
            ids = pa.array(wanted[lo:hi], pa.int64())
            for kind in ("valid", "checked_out"):
                if self.spill.path(kind, index).exists():
                    part = self.spill.read(kind, index)
                    part = part.filter(pc.is_in(part["_row"], value_set=ids))
                    if part.num_rows:
                        found.append(row_hashes(part))
        return pa.concat_tables(found) if found else row_hashes(pa.table({"_row": wanted[:0]}))

    def raw_schema(self) -> pa.Schema:
        if not self.schemas:
            return EMPTY_RAW
        return pa.unify_schemas(self.schemas, promote_options="permissive")

    def raw(self, index: int) -> pa.Table:
        return conform_raw(self.spill.read("raw", index), self.raw_schema())

    def finish(self, rows_read: int, *, check_required: bool = True) -> DayVerdict:
        """Day-level checks; afterwards the valid and quarantine parts are final."""
        if not self.schemas:  # nothing read: the day is one empty batch
            self.add(EMPTY_RAW.empty_table(), 0)
        elif not self.same_schema:
            self.audit = self.new_audit()
            for kind in ("valid", "quarantine", "keys", "checked_out"):
                self.spill.clear(kind)
            for index in range(len(self.schemas)):
                raw = self.raw(index)
                self.spill.write("raw", index, raw)
                self._check(index, raw)
        verdict = self.audit.finish(
            self.spill.dataset("keys", KEY_RECORD_SCHEMA),
            rows_read,
            check_required=check_required,
            hashes=self._row_hashes,
        )
        for index, (first, end) in enumerate(self.bounds):
            key_parts = verdict.key_parts_between(first, end)
            if len(key_parts[0]):
                valid, quarantine = with_key_reasons(
                    self.spill.read("valid", index),
                    self.spill.read("quarantine", index),
                    self.spill.read("raw", index),
                    key_parts,
                    **self.ids,
                )
                self.spill.write("valid", index, valid)
                self.spill.write("quarantine", index, quarantine)
        return verdict

    def quarantine_all(self, reason: str, *, own_reasons: bool) -> int:
        """Every row read to the ``all`` quarantine parts with ``reason`` after its own reasons
        (``own_reasons``: after the checks ran); the number of rows."""
        schema = self.raw_schema()
        count = 0
        for index in range(len(self.schemas)):
            raw = conform_raw(self.spill.read("raw", index), schema)
            prior = ids = None
            if own_reasons:
                prior = self.spill.read("quarantine", index)
                ids = self.spill.read("valid", index).select(["_row", "complaint_id"])
            rows = quarantine_every_row(raw, reason=reason, prior=prior, ids=ids, **self.ids)
            self.spill.write("all", index, rows)
            count += rows.num_rows
        return count

    def datasets(self) -> dict:
        """The day's raw rows, valid versions and quarantine rows as Datasets over the parts."""
        return {
            "raw": self.spill.dataset("raw", self.raw_schema()),
            "versions": self.spill.dataset("valid", canonical.schema()),
            "quarantine": self.spill.dataset("quarantine", QUARANTINE_SCHEMA),
        }

    def quarantined_all(self):
        return self.spill.dataset("all", QUARANTINE_SCHEMA)
