"""What the audit decides about one batch of a source-day on its own.

A batch's rows are conformed to the canonical schema (``conform``), their row-level reasons are
gathered as (raw row number, reason, complaint id) triples (``reason_parts``: the mapping's
rejects, the row checks, raw rows the mapping lost) and folded into quarantine rows
(``quarantine_rows``: one per raw row with every reason, raw values as JSON). The key rule needs
the whole day; its reasons are folded in afterwards by ``with_key_reasons``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from complaints import canonical
from complaints.quality.suites import suite_meta
from complaints.rawjson import records_json
from complaints.tables import QUARANTINE_SCHEMA

LOST_ROW = "row read but missing after mapping"
REJECTED = "rejected by mapping"

#: (raw row numbers, reasons, complaint ids): one triple of arrays per source of reasons
Parts = list[tuple[np.ndarray, np.ndarray, np.ndarray]]


def check_parameters(day: date, as_of: datetime, known_regions, known_institutions) -> dict:
    """The ``$PARAMETER`` values of the row suites for one source-day."""
    meta = suite_meta("complaints_time")
    tolerance = timedelta(minutes=float(meta.get("future_tolerance_minutes", 5)))
    oldest = datetime.combine(day - timedelta(days=int(meta.get("max_age_days", 7))), time(), UTC)
    return {
        "statuses": list(canonical.STATUSES),
        "classifications": list(canonical.CLASSIFICATIONS),
        "channels": list(canonical.CHANNELS),
        "timezones": list(canonical.TIMEZONES),
        "known_regions": sorted(known_regions),
        "known_institutions": sorted(known_institutions),
        "latest_allowed": _utc(as_of) + tolerance,
        "oldest_updated": oldest,
    }


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def conform(rows: pa.Table) -> tuple[pa.Table, list[str]]:
    """Every canonical column with its canonical type (missing or uncastable -> nulls) + `_row`."""
    if "_row" not in rows.column_names:
        raise ValueError("rows must carry the raw row number column `_row`")
    problems, columns = [], []
    for name, typ, required in canonical.FIELDS:
        if name not in rows.column_names:
            if required:
                problems.append(f"required column missing: {name}")
            columns.append(pa.nulls(rows.num_rows, typ))
            continue
        col = rows[name]
        if col.type != typ:
            try:
                col = pc.cast(col, typ)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                problems.append(f"column {name} has type {col.type}, expected {typ}")
                col = pa.nulls(rows.num_rows, typ)
        columns.append(col)
    columns.append(pc.cast(rows["_row"], pa.int64()))
    return pa.table(columns, names=[*canonical.FIELD_NAMES, "_row"]), problems


def raw_problems(raw_columns, required_columns: Mapping | None) -> list[str]:
    """The required source columns (``required_columns``) absent from ``raw_columns``."""
    problems = []
    for fieldname, source in (required_columns or {}).items():
        names = [source] if isinstance(source, str) else list(source)
        if not any(n in raw_columns for n in names):
            problems.append(
                f"required column missing in raw: {' | '.join(names)} (for {fieldname})"
            )
    return problems


def int64s(values) -> np.ndarray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return np.asarray(pc.cast(values, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _exploded(rows, reasons, ids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, reason, id) per element of list column ``reasons``."""
    if isinstance(reasons, pa.ChunkedArray):
        reasons = reasons.combine_chunks() if reasons.num_chunks else pa.array([], reasons.type)
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks() if ids.num_chunks else pa.array([], pa.string())
    parent = pc.list_parent_indices(reasons)
    return (
        rows[parent.to_numpy()],
        pc.list_flatten(reasons).to_numpy(zero_copy_only=False),
        pc.take(ids, parent).to_numpy(zero_copy_only=False),
    )


def reason_parts(table: pa.Table, row_checks, rejects: pa.Table, raw: pa.Table) -> Parts:
    """(row numbers, reasons, complaint ids) from the mapping, the row checks, lost raw rows."""
    reasons = (
        rejects["reasons"].combine_chunks()
        if rejects.num_rows
        else pa.array([], pa.list_(pa.string()))
    )
    empty = pc.equal(pc.list_value_length(reasons), 0)
    reasons = pc.if_else(empty, pa.scalar([REJECTED], reasons.type), reasons)
    rej_rows = int64s(rejects["_row"]) if rejects.num_rows else np.empty(0, np.int64)
    rej_ids = (
        rejects["complaint_id"].combine_chunks()
        if "complaint_id" in rejects.column_names and rejects.num_rows
        else pa.nulls(rejects.num_rows, pa.string())
    )
    mapped = _exploded(rej_rows, reasons, rej_ids)

    row_numbers = int64s(table["_row"])
    pos, check_reasons = row_checks.reason_pairs()
    # only the failing rows' ids as Python objects (the whole column was 1,000,000 str a day)
    ids = table["complaint_id"].take(pa.array(pos, pa.int64())).to_numpy()
    checked = (row_numbers[pos], check_reasons, ids)

    raw_rows = int64s(raw["_row"]) if "_row" in raw.column_names else np.empty(0, np.int64)
    lost_rows = raw_rows[~np.isin(raw_rows, np.concatenate([row_numbers, rej_rows]))]
    lost = (
        lost_rows,
        np.full(len(lost_rows), LOST_ROW, dtype=object),
        np.full(len(lost_rows), None, dtype=object),
    )
    return [mapped, checked, lost]


def quarantine_rows(parts: Parts, raw: pa.Table, *, source_id, day, run_id) -> pa.Table:
    """One row per raw row number with every reason, in the order the parts were given."""
    frames = [
        pd.DataFrame({"row": r, "prio": i, "reason": reasons, "complaint_id": ids})
        for i, (r, reasons, ids) in enumerate(parts)
    ]
    pairs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if pairs.empty:
        return QUARANTINE_SCHEMA.empty_table()
    pairs = pairs.drop_duplicates(subset=["row", "reason"], keep="first")
    pairs = pairs.sort_values(["row", "prio"], kind="stable")
    grouped = pairs.groupby("row", sort=True)
    reasons = grouped["reason"].agg(list)
    ids = grouped["complaint_id"].first()  # first non-null id given for the row
    numbers = reasons.index.to_numpy(dtype=np.int64)
    raw_json = pa.nulls(len(numbers), pa.string())
    if "_row" in raw.column_names and len(numbers):
        where = pc.index_in(pa.array(numbers), value_set=pc.cast(raw["_row"], pa.int64()))
        found = pc.is_valid(where)
        texts = records_json(raw.take(pc.drop_null(where)), ensure_ascii=False)
        raw_json = pc.replace_with_mask(raw_json, found, texts)
    n = len(numbers)
    return pa.table(
        {
            "source_id": pa.repeat(pa.scalar(source_id, pa.string()), n),
            "day": pa.repeat(pa.scalar(day, pa.date32()), n),
            "run_id": pa.repeat(pa.scalar(run_id, pa.string()), n),
            "row_number": pa.array(numbers, pa.int64()),
            "complaint_id": pa.array(ids.to_numpy(dtype=object), pa.string(), from_pandas=True),
            "raw": raw_json,
            "reasons": pa.array(reasons.tolist(), pa.list_(pa.string())),
        },
        schema=QUARANTINE_SCHEMA,
    )


def quarantine_parts(quarantine: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A quarantine table back as (row, reason, id) triples, reasons in their order."""
    return _exploded(
        int64s(quarantine["row_number"]), quarantine["reasons"], quarantine["complaint_id"]
    )


def with_key_reasons(
    valid: pa.Table, quarantine: pa.Table, raw: pa.Table, key_parts, *, source_id, day, run_id
) -> tuple[pa.Table, pa.Table]:
    """A batch's valid rows and quarantine once the day's key reasons (``key_parts``, triples
    for rows of this batch) are known: those rows leave ``valid``; their reasons come after
    the ones they already had."""
    rows = key_parts[0]
    if not len(rows):
        return valid, quarantine
    moved = np.isin(int64s(valid["_row"]), rows)
    quarantine = quarantine_rows(
        [quarantine_parts(quarantine), key_parts],
        raw,
        source_id=source_id,
        day=day,
        run_id=run_id,
    )
    return valid.filter(pa.array(~moved)), quarantine


def quarantine_every_row(
    raw: pa.Table,
    *,
    source_id,
    day,
    run_id,
    reason: str,
    prior: pa.Table | None = None,
    ids: pa.Table | None = None,
) -> pa.Table:
    """Every raw row as a quarantine row: its own reasons (``prior``) plus ``reason``.

    Used when a whole source-day is refused (batch policy) or the source failed part-way, so
    that no row read goes unrecorded. ``ids`` (``_row``, ``complaint_id``) gives the mapped
    complaint id of rows ``prior`` has none for. The raw values are JSON with ASCII escapes.
    """
    n = raw.num_rows
    rows = pa.array(int64s(raw["_row"]), pa.int64())
    prior = prior if prior is not None else QUARANTINE_SCHEMA.empty_table()
    where = pc.index_in(rows, value_set=prior["row_number"].combine_chunks())
    before = prior["reasons"].combine_chunks().take(where)
    flat = pc.list_flatten(before)
    lengths = pc.fill_null(pc.list_value_length(before), 0).to_numpy(zero_copy_only=False)
    offsets = np.zeros(n + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(lengths + 1)
    take = np.full(int(offsets[-1]), len(flat), dtype=np.int64)  # the last value: ``reason``
    own = np.ones(len(take), dtype=bool)
    own[offsets[1:] - 1] = False
    take[own] = np.arange(len(flat))
    values = pa.concat_arrays([flat, pa.array([reason], pa.string())]).take(pa.array(take))
    complaint_ids = prior["complaint_id"].combine_chunks().take(where)
    if ids is not None:
        mapped = (
            ids["complaint_id"]
            .combine_chunks()
            .take(pc.index_in(rows, value_set=pc.cast(ids["_row"], pa.int64()).combine_chunks()))
        )
        complaint_ids = pc.coalesce(complaint_ids, mapped)
    return pa.table(
        {
            "source_id": pa.repeat(pa.scalar(source_id, pa.string()), n),
            "day": pa.repeat(pa.scalar(day, pa.date32()), n),
            "run_id": pa.repeat(pa.scalar(run_id, pa.string()), n),
            "row_number": rows,
            "complaint_id": complaint_ids,
            "raw": records_json(raw, ensure_ascii=True),
            "reasons": pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values),
        },
        schema=QUARANTINE_SCHEMA,
    )
