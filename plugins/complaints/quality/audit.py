"""audit_batch: split a mapped batch into valid rows and quarantine rows, and judge the batch.

Row-level rules are evaluated vectorised (``rowchecks``) and decide which rows are quarantined;
GX runs the same suites on the whole batch and records its results (and Data Docs input); the
two are compared per rule. Nothing is lost: every raw row ends up either valid or in quarantine
with all its reasons (the mapping's and the checks'), and ``rows_read == valid + quarantine`` is
enforced.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from complaints import canonical
from complaints.quality import gx_record, gx_runner, recorded
from complaints.quality.rowchecks import run_row_checks
from complaints.quality.suites import ROW_SUITES, VOLUME_SUITE, suite_meta
from complaints.quality.volume import check_volume, volume_band
from complaints.tables import QUARANTINE_SCHEMA

#: the batch policy refuses a day only when at least this many rows are bad, whatever the share
MIN_BAD_ROWS = 3

LOST_ROW = "row read but missing after mapping"
REJECTED = "rejected by mapping"
_PANDAS_TYPES = {
    pa.string(): pd.StringDtype(),
    pa.int8(): pd.Int8Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


class ReconciliationError(AssertionError):
    """rows_read != valid + quarantine: a row was lost or counted twice."""


@dataclass(frozen=True)
class AuditResult:
    valid: pa.Table  # canonical.schema()
    quarantine: pa.Table  # tables.QUARANTINE_SCHEMA
    checks: list[dict] = field(default_factory=list)
    batch_ok: bool = True
    batch_reason: str | None = None
    rows_read: int = 0

    @property
    def rows_loaded(self) -> int:
        return self.valid.num_rows

    @property
    def rows_quarantined(self) -> int:
        return self.quarantine.num_rows

    @property
    def checks_failed(self) -> int:
        return sum(not c["success"] for c in self.checks)


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


def _conform(rows: pa.Table) -> tuple[pa.Table, list[str]]:
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


def _raw_problems(raw: pa.Table, required_columns: Mapping | None) -> list[str]:
    problems = []
    for fieldname, source in (required_columns or {}).items():
        names = [source] if isinstance(source, str) else list(source)
        if not any(n in raw.column_names for n in names):
            problems.append(
                f"required column missing in raw: {' | '.join(names)} (for {fieldname})"
            )
    return problems


def _canonical_columns(rows: pa.Table) -> list[str]:
    return [c for c in rows.column_names if c in canonical.FIELD_NAMES]


def _gx_frame(rows: pa.Table) -> pd.DataFrame:
    """What GX validates: the mapped rows as sent (canonical columns present, nullable dtypes)."""
    return rows.select(_canonical_columns(rows)).to_pandas(types_mapper=_PANDAS_TYPES.get)


def _quarantine(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    raw: pa.Table,
    *,
    source_id,
    day,
    run_id,
) -> pa.Table:
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
    raw_json: list[str | None] = [None] * len(numbers)
    if "_row" in raw.column_names and len(numbers):
        where = pc.index_in(pa.array(numbers), value_set=pc.cast(raw["_row"], pa.int64()))
        found = pc.is_valid(where).to_numpy(zero_copy_only=False)
        values = raw.drop_columns(["_row"]).take(pc.drop_null(where)).to_pylist()
        for slot, record in zip(np.flatnonzero(found), values, strict=True):
            raw_json[slot] = json.dumps(record, ensure_ascii=False, default=str)
    n = len(numbers)
    return pa.table(
        {
            "source_id": pa.array([source_id] * n, pa.string()),
            "day": pa.array([day] * n, pa.date32()),
            "run_id": pa.array([run_id] * n, pa.string()),
            "row_number": pa.array(numbers, pa.int64()),
            "complaint_id": pa.array(ids.to_numpy(dtype=object), pa.string(), from_pandas=True),
            "raw": pa.array(raw_json, pa.string()),
            "reasons": pa.array(reasons.tolist(), pa.list_(pa.string())),
        },
        schema=QUARANTINE_SCHEMA,
    )


def _int64(values) -> np.ndarray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return np.asarray(pc.cast(values, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _reason_parts(table: pa.Table, row_checks, rejects: pa.Table, raw: pa.Table) -> list:
    """(row numbers, reasons, complaint ids) from the mapping, the row checks, lost raw rows."""
    reasons = (
        rejects["reasons"].combine_chunks()
        if rejects.num_rows
        else pa.array([], pa.list_(pa.string()))
    )
    empty = pc.equal(pc.list_value_length(reasons), 0)
    reasons = pc.if_else(empty, pa.scalar([REJECTED], reasons.type), reasons)
    parent = pc.list_parent_indices(reasons)
    rej_rows = _int64(rejects["_row"]) if rejects.num_rows else np.empty(0, np.int64)
    rej_ids = (
        rejects["complaint_id"].combine_chunks()
        if "complaint_id" in rejects.column_names
        else pa.nulls(rejects.num_rows, pa.string())
    )
    mapped = (
        rej_rows[parent.to_numpy()],
        pc.list_flatten(reasons).to_numpy(zero_copy_only=False),
        pc.take(rej_ids, parent).to_numpy(zero_copy_only=False),
    )

    row_numbers = _int64(table["_row"])
    ids = table["complaint_id"].to_numpy()
    pos, check_reasons = row_checks.reason_pairs()
    checked = (row_numbers[pos], check_reasons, ids[pos])

    raw_rows = _int64(raw["_row"]) if "_row" in raw.column_names else np.empty(0, np.int64)
    lost_rows = raw_rows[~np.isin(raw_rows, np.concatenate([row_numbers, rej_rows]))]
    lost = (
        lost_rows,
        np.full(len(lost_rows), LOST_ROW, dtype=object),
        np.full(len(lost_rows), None, dtype=object),
    )
    return [mapped, checked, lost]


def _agreement(gx_checks: list[dict], rule_counts: dict[str, int]) -> dict:
    """Annotate GX checks with the row checks' count; one summary check."""
    mismatches = []
    for check in gx_checks:
        rule = check["details"].get("rule")
        if rule not in rule_counts or "exception" in check["details"]:
            continue
        check["details"]["row_check_count"] = rule_counts[rule]
        if check["unexpected_count"] != rule_counts[rule]:
            mismatches.append(
                {"rule": rule, "gx": check["unexpected_count"], "row_checks": rule_counts[rule]}
            )
    return {
        "name": "gx_agrees_with_row_checks",
        "suite": "row_checks",
        "success": not mismatches,
        "unexpected_count": len(mismatches),
        "details": {"mismatches": mismatches},
    }


def _validated(rows, params, band, rows_read, **gx) -> tuple[list[dict], list[dict]]:
    """Validate mode: every suite through GX on the batch (and the raw row count)."""
    frame = _gx_frame(rows)
    checks: list[dict] = []
    for suite in ROW_SUITES:
        checks += gx_runner.validate(frame, suite, parameters=params, **gx)
    volume: list[dict] = []
    if band is not None:
        raw_rows = pd.DataFrame({"_row": np.arange(rows_read, dtype=np.int64)})
        bounds = {"volume_min": band[0], "volume_max": band[1]}
        volume = gx_runner.validate(raw_rows, VOLUME_SUITE, parameters=bounds, **gx)
    return checks, volume


def _recorded(
    rows, table, row_checks, params, band, rows_read, gx_dir, name, batch_meta
) -> tuple[list[dict], list[dict]]:
    """Record mode: results from the row checks and the schema; stored in GX when ``gx_dir``."""
    present = recorded.observed_types(rows.select(_canonical_columns(rows)))
    suites = {
        suite: recorded.record_suite(
            suite, table, present=present, row_checks=row_checks, params=params
        )
        for suite in ROW_SUITES
    }
    if band is not None:
        suites[VOLUME_SUITE] = recorded.record_volume(VOLUME_SUITE, rows_read, band)
    if gx_dir is not None:
        for suite, results in suites.items():
            gx_record.store(suite, results, gx_dir=gx_dir, name=name, batch_meta=batch_meta)
    checks = {s: recorded.check_dicts(s, r, gx_runner.check_name) for s, r in suites.items()}
    row_suite_checks = [c for suite in ROW_SUITES for c in checks[suite]]
    return row_suite_checks, checks.get(VOLUME_SUITE, [])


def audit_batch(
    rows: pa.Table,
    rejects: pa.Table,
    raw: pa.Table,
    *,
    source_id: str,
    day: date,
    run_id: str,
    as_of: datetime,
    known_regions: set[str],
    known_institutions: set[str],
    recent_counts: Sequence[int],
    threshold: float = 0.05,
    min_bad_rows: int = MIN_BAD_ROWS,
    rows_read: int,
    gx_dir: Path | None,
    required_columns: Mapping[str, str | Sequence[str]] | None = None,
    volume_factor: float | None = None,
    result_format: str = gx_runner.DEFAULT_RESULT_FORMAT,
    gx_mode: str | None = None,
) -> AuditResult:
    """Check a mapped source-day batch; see the module docstring and docs/architecture.md.

    ``required_columns`` maps canonical fields to the source column(s) the mapping reads them
    from (a list: the first present); a required one absent from ``raw`` fails the batch.
    ``volume_factor`` overrides the volume suite's band factor. ``gx_mode`` ("record" or
    "validate"; default ``COMPLAINTS_GX_MODE``, else "record") chooses whether GX records the
    vectorised results (``_recorded``) or validates every suite itself (``_validated``).
    """
    table, problems = _conform(rows)
    problems = _raw_problems(raw, required_columns) + problems
    params = check_parameters(day, as_of, known_regions, known_institutions)
    row_checks = run_row_checks(table, params)

    mode = gx_mode or gx_runner.gx_mode()
    if mode not in gx_runner.GX_MODES:
        raise ValueError(f"gx_mode must be one of {gx_runner.GX_MODES}, not {mode!r}")
    name = gx_runner.run_name(source_id, day, run_id)
    band = volume_band(recent_counts, volume_factor)
    volume_ok, volume_reason, volume_details = check_volume(rows_read, recent_counts, volume_factor)
    if mode == "validate":
        gx_checks, volume_checks = _validated(
            rows, params, band, rows_read, gx_dir=gx_dir, name=name, result_format=result_format
        )
    else:
        batch_meta = {"source_id": source_id, "day": day, "run_id": run_id, "rows": rows.num_rows}
        gx_checks, volume_checks = _recorded(
            rows, table, row_checks, params, band, rows_read, gx_dir, name, batch_meta
        )
    checks = gx_checks + [_agreement(gx_checks, row_checks.rule_counts)]
    if band is not None:
        for check in volume_checks:
            check["details"].update(volume_details)
        checks += volume_checks
    else:
        checks.append(
            {
                "name": "expect_table_row_count_to_be_between",
                "suite": VOLUME_SUITE,
                "success": True,
                "unexpected_count": None,
                "details": dict(volume_details, rule="volume", note="no band: history too short"),
            }
        )

    # quarantine: mapping rejects, then row checks, then raw rows nobody accounted for
    parts = _reason_parts(table, row_checks, rejects, raw)
    row_numbers = table["_row"].to_numpy()
    quarantine = _quarantine(parts, raw, source_id=source_id, day=day, run_id=run_id)
    bad = np.isin(row_numbers, quarantine["row_number"].to_numpy())
    valid = table.filter(pa.array(~bad)).drop_columns(["_row"]).cast(canonical.schema())

    if rows_read != valid.num_rows + quarantine.num_rows:
        raise ReconciliationError(
            f"{source_id} {day}: rows_read {rows_read} != valid {valid.num_rows} "
            f"+ quarantine {quarantine.num_rows}"
        )
    share = quarantine.num_rows / rows_read if rows_read else 0.0
    # a share is noise on a tiny day: 2 bad rows of 16 must not refuse a small regency's day
    share_ok = share <= threshold or quarantine.num_rows < min_bad_rows
    if not share_ok:
        problems.append(
            f"quarantined {quarantine.num_rows} of {rows_read} rows ({share:.1%}), "
            f"more than the threshold {threshold:.1%}"
        )
    checks.append(
        {
            "name": "quarantine_share",
            "suite": "batch_policy",
            "success": share_ok,
            "unexpected_count": quarantine.num_rows,
            "details": {
                "share": share,
                "threshold": threshold,
                "rows_read": rows_read,
                "min_bad_rows": min_bad_rows,
            },
        }
    )
    if not volume_ok:
        problems.append(volume_reason)
    return AuditResult(
        valid=valid,
        quarantine=quarantine,
        checks=checks,
        batch_ok=not problems,
        batch_reason="; ".join(problems) if problems else None,
        rows_read=rows_read,
    )
