"""Declarative mapping of a source's raw batch onto the canonical record.

``map_batch`` takes the raw rows of one source (the source's own column names, every value a
string or null, an int64 ``_row`` and, after the privacy step, a ``reporter_key``) and returns
the canonical rows plus the rejects: every row lands in exactly one of the two, and a rejected
row carries every reason it failed (unknown status, unparseable timestamp, bad rating ...).
All work is column-at-a-time with pyarrow/pandas kernels; there is no Python loop per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from complaints import canonical
from complaints.registry.loader import load_regions
from complaints.registry.models import BOOLEAN_FIELDS, VOCABULARIES, Mapping, Source
from complaints.timeparse import parse_timestamps

REJECT_SCHEMA = pa.schema(
    [
        pa.field("_row", pa.int64(), nullable=False),
        pa.field("complaint_id", pa.string()),
        pa.field("reasons", pa.list_(pa.string()), nullable=False),
    ]
)
#: fields the pipeline fills, not the mapping
FILLED = ("source_id", "institution_id", "timezone", "reporter_key")

RATING_INT_RE = r"^[+-]?\d+(?:[.,]0+)?$"
THOUSANDS_RE = r"^\d{1,3}(?:\.\d{3})+$|^\d{1,3}(?:,\d{3})+$"


class MappingError(ValueError):
    """The raw batch breaks the contract (e.g. no ``_row`` column): a bug upstream, not bad data."""


@dataclass(frozen=True)
class MappedBatch:
    rows: pa.Table  # canonical.schema() + trailing ``_row``
    rejects: pa.Table  # REJECT_SCHEMA

    @property
    def num_read(self) -> int:
        return self.rows.num_rows + self.rejects.num_rows


def rows_schema() -> pa.Schema:
    """The schema of ``MappedBatch.rows``: the canonical schema plus ``_row``."""
    return canonical.schema().append(pa.field("_row", pa.int64(), nullable=False))


def _clean(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Text, trimmed, with empty strings as null."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    arr = pc.utf8_trim_whitespace(arr)
    empty = pc.equal(pc.binary_length(arr), 0)
    if not pc.any(empty).as_py():  # nothing to null: spare the copy
        return arr
    return pc.if_else(empty, pa.scalar(None, pa.string()), arr)


def _reason(mask: pa.Array, text: str, values: pa.Array | None = None, after: str = "") -> pa.Array:
    """A string array, null where ``mask`` is not true, elsewhere ``text``, or with ``values``
    ``text + "'" + value + "'" + after``. Only the masked rows are joined."""
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return pa.nulls(len(mask), pa.string())
    if values is None:
        return pc.if_else(mask, pa.scalar(text), pa.scalar(None, pa.string()))
    quoted = pc.binary_join_element_wise(text + "'", values.filter(mask), "'" + after, "")
    return pc.replace_with_mask(pa.nulls(len(mask), pa.string()), mask, quoted)


class _Mapper:
    def __init__(self, raw: pa.Table, source: Source, mapping: Mapping):
        self.raw = raw
        self.n = raw.num_rows
        self.source = source
        self.mapping = mapping
        self.reasons: list[pa.Array] = []
        self.out: dict[str, pa.Array] = {}

    # -- helpers --------------------------------------------------------------------------
    def column(self, field: str, report_missing: bool = True) -> pa.Array | None:
        """The cleaned source column for ``field``; None (and a reason if required) if absent."""
        candidates = self.mapping.column_candidates(field)
        for name in candidates:
            if name in self.raw.column_names:
                return _clean(self.raw.column(name))
        if report_missing and field in canonical.REQUIRED_FIELDS and candidates:
            names = " / ".join(repr(c) for c in candidates)
            self.add(pa.repeat(pa.scalar(f"missing required column {names} for {field}"), self.n))
        return None

    def add(self, reason: pa.Array) -> None:
        self.reasons.append(reason)

    def require(self, field: str, values: pa.Array) -> None:
        if field in canonical.REQUIRED_FIELDS:
            self.add(_reason(pc.is_null(values), f"missing {field}"))

    def nulls(self, typ: pa.DataType) -> pa.Array:
        return pa.nulls(self.n, typ)

    # -- field kinds ----------------------------------------------------------------------
    def text(self, field: str) -> None:
        values = self.column(field)
        if values is None:
            self.out[field] = self.nulls(pa.string())
            return
        table = self.mapping.values.get(field)
        if table is not None or field in VOCABULARIES:
            values = self.lookup(field, values, table)
        else:
            self.require(field, values)
        self.out[field] = values

    def lookup(self, field: str, values: pa.Array, table: dict[str, str] | None) -> pa.Array:
        if table is None:  # no map: the source already speaks the vocabulary
            table = {v: v for v in VOCABULARIES[field]}
        keys = pa.array([k.strip().lower() for k in table], pa.string())
        targets = pa.array(list(table.values()), pa.string())
        index = pc.index_in(pc.utf8_lower(values), value_set=keys)
        mapped = pc.take(targets, index)
        self.require(field, values)
        unknown = pc.and_(pc.is_valid(values), pc.is_null(index))
        self.add(_reason(unknown, f"unknown {field} ", values))
        return mapped

    def boolean(self, field: str) -> None:
        values = self.column(field)
        if values is None:
            self.out[field] = self.nulls(pa.bool_())
            return
        true_words = [w.strip().lower() for w in self.mapping.booleans["true"]]
        false_words = [w.strip().lower() for w in self.mapping.booleans["false"]]
        lower = pc.utf8_lower(values)
        is_true = pc.is_in(lower, value_set=pa.array(true_words, pa.string()))
        is_false = pc.is_in(lower, value_set=pa.array(false_words, pa.string()))
        known = pc.or_(is_true, is_false)
        self.require(field, values)
        words = (
            f" is not a yes/no word (true: {', '.join(true_words)}; "
            f"false: {', '.join(false_words)})"
        )
        self.add(
            _reason(pc.and_(pc.is_valid(values), pc.invert(known)), f"{field} ", values, words)
        )
        self.out[field] = pc.if_else(known, is_true, pa.scalar(None, pa.bool_()))

    def rating(self) -> None:
        values = self.column("rating")
        if values is None:
            self.out["rating"] = self.nulls(pa.int8())
            return
        given = pc.is_valid(values)
        thousands = pc.fill_null(pc.match_substring_regex(values, THOUSANDS_RE), False)
        integral = pc.and_(
            pc.fill_null(pc.match_substring_regex(values, RATING_INT_RE), False),
            pc.invert(thousands),
        )
        whole = pc.replace_substring_regex(values, r"[.,]0+$", "")
        number = pc.cast(pc.if_else(integral, whole, pa.scalar(None, pa.string())), pa.int64())
        in_range = pc.fill_null(
            pc.and_(pc.greater_equal(number, 1), pc.less_equal(number, 5)), False
        )
        self.add(
            _reason(
                thousands,
                "rating ",
                values,
                " has a thousands separator; expected an integer 1-5",
            )
        )
        bad = pc.and_(pc.and_(given, pc.invert(in_range)), pc.invert(thousands))
        self.add(_reason(bad, "rating ", values, " is not an integer 1-5"))
        self.out["rating"] = pc.cast(
            pc.if_else(in_range, number, pa.scalar(None, pa.int64())), pa.int8()
        )

    def timestamp(self, field: str) -> None:
        values = self.column(field)
        if values is None:
            self.out[field] = self.nulls(canonical.TS)
            return
        naive_tz = self.source.timezone if self.mapping.timestamps.naive_is == "local" else "UTC"
        parsed, failed = parse_timestamps(values, self.mapping.timestamps.formats, naive_tz)
        self.require(field, values)
        self.add(_reason(pa.array(failed), f"unparseable {field} ", values))
        self.out[field] = parsed

    def region_code(self) -> None:
        # a regional export may leave the region out: it is the source's own
        values = self.column("region_code", report_missing=False)
        if values is None:
            values = self.nulls(pa.string())
        # "3171" (no dot) is written "31.71" in regions.csv
        values = pc.replace_substring_regex(values, r"^(\d{2})(\d{2})$", r"\1.\2")
        if self.source.region_code:
            values = pc.fill_null(values, self.source.region_code)
        else:
            self.add(
                _reason(
                    pc.is_null(values),
                    "missing region_code (a central source must send it)",
                )
            )
        known = pa.array(sorted(load_regions()), pa.string())
        unknown = pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=known)))
        self.add(_reason(unknown, "region_code ", values, " is not in regions.csv"))
        self.out["region_code"] = values

    # -- the whole batch ------------------------------------------------------------------
    def run(self) -> MappedBatch:
        for field, typ, _ in canonical.FIELDS:
            if field in FILLED:
                continue
            if field == "region_code":
                self.region_code()
            elif field == "rating":
                self.rating()
            elif typ == canonical.TS:
                self.timestamp(field)
            elif field in BOOLEAN_FIELDS:
                self.boolean(field)
            else:
                self.text(field)
        self.out["source_id"] = pa.repeat(pa.scalar(self.source.id), self.n)
        self.out["institution_id"] = pa.repeat(pa.scalar(self.source.institution_id), self.n)
        self.out["timezone"] = pa.repeat(pa.scalar(self.source.timezone), self.n)
        if "reporter_key" in self.raw.column_names:
            self.out["reporter_key"] = _clean(self.raw.column("reporter_key"))
        else:
            self.out["reporter_key"] = self.nulls(pa.string())
        return self.split()

    def split(self) -> MappedBatch:
        row_numbers = self.raw.column("_row").combine_chunks()
        reasons_per_row, rejected = _collect(self.reasons, self.n)
        fields = [pa.field(f.name, f.type) for f in canonical.schema()]
        table = pa.Table.from_arrays(
            [self.out[f.name] for f in fields] + [row_numbers],
            schema=pa.schema([*fields, pa.field("_row", pa.int64())]),
        )
        if rejected.any():  # else no filtered copy of every column
            table = table.filter(pa.array(~rejected))
        rows = table.cast(rows_schema())
        reject_idx = np.flatnonzero(rejected)
        rejects = pa.Table.from_arrays(
            [
                row_numbers.take(reject_idx),
                self.out["complaint_id"].take(reject_idx)
                if "complaint_id" in self.out
                else pa.nulls(len(reject_idx), pa.string()),
                reasons_per_row,
            ],
            schema=REJECT_SCHEMA,
        )
        return MappedBatch(rows=rows, rejects=rejects)


def _collect(reasons: list[pa.Array], n: int) -> tuple[pa.Array, np.ndarray]:
    """Per rejected row (ascending), the list of its reasons in check order; and the mask."""
    rows, order, values = [], [], []
    for k, arr in enumerate(reasons):
        idx = pc.indices_nonzero(pc.is_valid(arr)).to_numpy()
        if len(idx):
            rows.append(idx)
            order.append(np.full(len(idx), k))
            values.append(arr.take(pa.array(idx)))
    rejected = np.zeros(n, dtype=bool)
    if not rows:
        return pa.array([], pa.list_(pa.string())), rejected
    all_rows = np.concatenate(rows)
    sort = np.lexsort((np.concatenate(order), all_rows))
    flat = pa.concat_arrays(values).take(pa.array(sort))
    rejected[all_rows] = True
    counts = np.bincount(all_rows, minlength=n)[rejected]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), flat), rejected


def map_batch(raw: pa.Table, source: Source, mapping: Mapping) -> MappedBatch:
    """Map one raw batch of ``source`` with ``mapping``: canonical rows + rejects with reasons."""
    if "_row" not in raw.column_names:
        raise MappingError(f"raw batch of {source.id} has no _row column")
    if not pa.types.is_integer(raw.schema.field("_row").type):
        raise MappingError(
            f"raw batch of {source.id}: _row must be int64, not {raw.schema.field('_row').type}"
        )
    raw = raw.set_column(
        raw.column_names.index("_row"), "_row", raw.column("_row").cast(pa.int64())
    )
    if raw.column("_row").null_count:
        raise MappingError(f"raw batch of {source.id}: _row has nulls")
    return _Mapper(raw, source, mapping).run()


__all__ = ["REJECT_SCHEMA", "MappedBatch", "MappingError", "map_batch", "rows_schema"]
