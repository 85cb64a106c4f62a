"""Audit a source-day: split its mapped rows into valid rows and quarantine rows, judge the day.

Row-level rules are evaluated vectorised (``rowchecks``) and decide which rows are quarantined;
GX records (or, in validate mode, recomputes) the suites' results; the two are compared per
rule. Nothing is lost: every raw row ends up either valid or in quarantine with all its reasons
(the mapping's and the checks'), and ``rows_read == valid + quarantine`` is enforced.

A day can be audited batch by batch (``DayAudit``, how the pipeline streams a large day):
``add`` decides each batch's rows on their own and keeps only counts, the first unexpected
values and each row's small key record; ``finish`` checks the key rule over all the day's key
records, records the results and applies the batch policy; ``with_key_reasons`` then moves the
rows the key rule quarantines. ``audit_batch`` is the same on one in-memory batch. The results
are the same whatever the batch sizes (in validate mode GX needs the day's rows in memory).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from complaints import canonical
from complaints.quality import gx_record, gx_runner, recorded
from complaints.quality.batch import (
    check_parameters,
    conform,
    quarantine_rows,
    raw_problems,
    reason_parts,
    with_key_reasons,
)
from complaints.quality.keys import KEY, key_duplicates, key_records
from complaints.quality.merged import DayResults
from complaints.quality.rowchecks import (
    CONFLICTING_VERSIONS,
    DUPLICATE_ROW,
    KEY_RULE,
    run_row_checks,
)
from complaints.quality.suites import ROW_SUITES, VOLUME_SUITE
from complaints.quality.volume import check_volume, volume_band

__all__ = ["AuditResult", "DayAudit", "DayVerdict", "ReconciliationError", "audit_batch",
           "check_parameters", "with_key_reasons"]  # fmt: skip

#: the batch policy refuses a day only when at least this many rows are bad, whatever the share
MIN_BAD_ROWS = 3
_conform = conform  # the name the GX agreement tests use
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


@dataclass(frozen=True)
class BatchOutcome:
    """One batch on its own: valid candidates (canonical + ``_row``), quarantine, key records;
    without hashed keys also ``checked_out``: the canonical rows the row checks quarantined."""

    valid: pa.Table
    quarantine: pa.Table
    keys: pa.Table
    checked_out: pa.Table | None = None


@dataclass(frozen=True)
class DayVerdict:
    checks: list[dict]
    batch_ok: bool
    batch_reason: str | None
    rows_loaded: int
    rows_quarantined: int
    #: (raw row numbers, reasons, complaint ids) the key rule adds, sorted by row
    key_parts: tuple[np.ndarray, np.ndarray, np.ndarray]

    def key_parts_between(self, first_row: int, end_row: int):
        """The key reasons of raw rows ``first_row <= _row < end_row`` (one batch's)."""
        rows = self.key_parts[0]
        lo, hi = np.searchsorted(rows, [first_row, end_row])
        return tuple(a[lo:hi] for a in self.key_parts)


def _canonical_columns(rows: pa.Table) -> list[str]:
    return [c for c in rows.column_names if c in canonical.FIELD_NAMES]


def _gx_frame(rows: pa.Table) -> pd.DataFrame:
    """What GX validates: the mapped rows as sent (canonical columns present, nullable dtypes)."""
    return rows.select(_canonical_columns(rows)).to_pandas(types_mapper=_PANDAS_TYPES.get)


def _agreement(gx_checks: list[dict], rule_counts: Mapping[str, int]) -> dict:
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


def _key_reasons(dups: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, reason, id) triples of the key rule, sorted by row then reason (suite order)."""
    frames = []
    kinds = ((DUPLICATE_ROW, "copy"), (CONFLICTING_VERSIONS, "conflict"))
    for order, (reason, flag) in enumerate(kinds):
        hit = dups.filter(pc.fill_null(dups[flag], False))
        frames.append(
            pd.DataFrame(
                {
                    "row": hit["_row"].to_numpy(),
                    "order": order,
                    "reason": reason,
                    "id": hit["complaint_id"].to_numpy(zero_copy_only=False),
                }
            )
        )
    pairs = pd.concat(frames, ignore_index=True).sort_values(["row", "order"], kind="stable")
    return (
        pairs["row"].to_numpy(dtype=np.int64),
        pairs["reason"].to_numpy(dtype=object),
        pairs["id"].to_numpy(dtype=object),
    )


class DayAudit:
    """Audit one source-day batch by batch; see the module docstring and ``audit_batch``."""

    def __init__(
        self,
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
        gx_dir: Path | None,
        required_columns: Mapping[str, str | Sequence[str]] | None = None,
        volume_factor: float | None = None,
        result_format: str = gx_runner.DEFAULT_RESULT_FORMAT,
        gx_mode: str | None = None,
        hash_keys: bool = True,
    ) -> None:
        self.mode = gx_mode or gx_runner.gx_mode()
        if self.mode not in gx_runner.GX_MODES:
            raise ValueError(f"gx_mode must be one of {gx_runner.GX_MODES}, not {self.mode!r}")
        self.source_id, self.day, self.run_id = source_id, day, run_id
        self.params = check_parameters(day, as_of, known_regions, known_institutions)
        self.recent_counts, self.volume_factor = recent_counts, volume_factor
        self.threshold, self.min_bad_rows = threshold, min_bad_rows
        self.gx_dir, self.result_format = gx_dir, result_format
        self.required_columns = required_columns
        # without: key records carry no row hash, and ``finish`` asks for the hashes of the
        # rows whose key repeats (the caller kept the valid and ``checked_out`` rows)
        self.hash_keys = hash_keys
        self.raw_columns: dict[str, None] = {}
        self.schema_problems: dict[str, None] = {}
        self.rule_counts: Counter = Counter()
        self.results = DayResults()
        self.mapped = self.valid = self.quarantined = 0
        self._rows: list[pa.Table] = []  # validate mode: GX validates the whole day at once

    @property
    def ids(self) -> dict:
        return {"source_id": self.source_id, "day": self.day, "run_id": self.run_id}

    def add(self, rows: pa.Table, rejects: pa.Table, raw: pa.Table) -> BatchOutcome:
        """One batch: mapped ``rows`` (+ ``_row``), the mapping's ``rejects``, the ``raw`` rows."""
        table, problems = conform(rows)
        self.raw_columns.update(dict.fromkeys(raw.column_names))
        self.schema_problems.update(dict.fromkeys(problems))
        row_checks = run_row_checks(table, self.params, keys=False)
        self.rule_counts.update(row_checks.rule_counts)
        if self.mode == "validate":
            self._rows.append(rows)
        else:
            present = recorded.observed_types(rows.select(_canonical_columns(rows)))
            for suite in ROW_SUITES:
                results = recorded.record_suite(
                    suite, table, present=present, row_checks=row_checks, params=self.params
                )
                self.results.add(suite, results, self.mapped)
        quarantine = quarantine_rows(reason_parts(table, row_checks, rejects, raw), raw, **self.ids)
        bad = np.isin(table["_row"].to_numpy(), quarantine["row_number"].to_numpy())
        keys = key_records(table, self.mapped, bad, hashed=self.hash_keys)
        self.mapped += table.num_rows
        valid = table.filter(pa.array(~bad)) if bad.any() else table  # a copy of every column
        self.valid += valid.num_rows
        self.quarantined += quarantine.num_rows
        checked_out = None if self.hash_keys else table.filter(pa.array(bad))
        return BatchOutcome(valid=valid, quarantine=quarantine, keys=keys, checked_out=checked_out)

    def _key_rule(self, dups: pa.Table) -> None:
        self.rule_counts[KEY_RULE] = dups.num_rows
        first = dups.slice(0, recorded.PARTIAL_LIMIT)
        values = [recorded.plain(r) for r in first.select(list(KEY)).to_pylist()]
        self.results.set_rule(KEY_RULE, dups.num_rows, values, first["pos"].to_pylist())

    def _checks(self, rows_read: int, band) -> tuple[list[dict], list[dict]]:
        name = gx_runner.run_name(self.source_id, self.day, self.run_id)
        if self.mode == "validate":
            rows = pa.concat_tables(self._rows, promote_options="permissive")
            return _validated(
                rows, self.params, band, rows_read,
                gx_dir=self.gx_dir, name=name, result_format=self.result_format,
            )  # fmt: skip
        suites = {suite: self.results.results(suite) for suite in ROW_SUITES}
        if band is not None:
            suites[VOLUME_SUITE] = recorded.record_volume(VOLUME_SUITE, rows_read, band)
        if self.gx_dir is not None:
            meta = {**self.ids, "rows": self.mapped}
            for suite, results in suites.items():
                gx_record.store(suite, results, gx_dir=self.gx_dir, name=name, batch_meta=meta)
        checks = {s: recorded.check_dicts(s, r, gx_runner.check_name) for s, r in suites.items()}
        row_suite_checks = [c for suite in ROW_SUITES for c in checks[suite]]
        return row_suite_checks, checks.get(VOLUME_SUITE, [])

    def finish(
        self,
        keys: pa.Table | ds.Dataset,
        rows_read: int,
        *,
        check_required: bool = True,
        hashes: Callable[[np.ndarray], pa.Table] | None = None,
    ) -> DayVerdict:
        """The day's verdict from all its batches' key records (``BatchOutcome.keys``);
        ``check_required=False`` leaves out the required raw columns check. Without
        ``hash_keys``, ``hashes`` gives ``keys.row_hashes`` of the valid and ``checked_out``
        rows with the given ``_row`` numbers."""
        if not self.hash_keys and hashes is None:
            raise ValueError("key records without hashes need finish(..., hashes=...)")
        dups = key_duplicates(keys, hashes if not self.hash_keys else None)
        self._key_rule(dups)
        key_parts = _key_reasons(dups)
        moved = int(
            pc.sum(pc.and_(pc.invert(dups["bad"]), pc.or_(dups["copy"], dups["conflict"])))
            .as_py() or 0
        )  # fmt: skip
        band = volume_band(self.recent_counts, self.volume_factor)
        volume_ok, volume_reason, volume_details = check_volume(
            rows_read, self.recent_counts, self.volume_factor
        )
        gx_checks, volume_checks = self._checks(rows_read, band)
        checks = gx_checks + [_agreement(gx_checks, self.rule_counts)]
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
                    "details": dict(
                        volume_details, rule="volume", note="no band: history too short"
                    ),  # fmt: skip
                }
            )
        if rows_read != self.valid + self.quarantined:
            raise ReconciliationError(
                f"{self.source_id} {self.day}: rows_read {rows_read} != valid {self.valid - moved} "
                f"+ quarantine {self.quarantined + moved}"
            )
        loaded, quarantined = self.valid - moved, self.quarantined + moved
        required = self.required_columns if check_required else None
        problems = raw_problems(self.raw_columns, required) + [*self.schema_problems]
        share = quarantined / rows_read if rows_read else 0.0
        # a share is noise on a tiny day: 2 bad rows of 16 must not refuse a small regency's day
        share_ok = share <= self.threshold or quarantined < self.min_bad_rows
        if not share_ok:
            problems.append(
                f"quarantined {quarantined} of {rows_read} rows ({share:.1%}), "
                f"more than the threshold {self.threshold:.1%}"
            )
        checks.append(
            {
                "name": "quarantine_share",
                "suite": "batch_policy",
                "success": share_ok,
                "unexpected_count": quarantined,
                "details": {
                    "share": share,
                    "threshold": self.threshold,
                    "rows_read": rows_read,
                    "min_bad_rows": self.min_bad_rows,
                },
            }
        )
        if not volume_ok:
            problems.append(volume_reason)
        return DayVerdict(
            checks=checks,
            batch_ok=not problems,
            batch_reason="; ".join(problems) if problems else None,
            rows_loaded=loaded,
            rows_quarantined=quarantined,
            key_parts=key_parts,
        )


def audit_batch(
    rows: pa.Table,
    rejects: pa.Table,
    raw: pa.Table,
    *,
    rows_read: int,
    **options,
) -> AuditResult:
    """Check a mapped source-day held in memory as one batch; see ``DayAudit`` for ``options``.

    ``required_columns`` maps canonical fields to the source column(s) the mapping reads them
    from (a list: the first present); a required one absent from ``raw`` fails the batch.
    ``volume_factor`` overrides the volume suite's band factor. ``gx_mode`` ("record" or
    "validate"; default ``COMPLAINTS_GX_MODE``, else "record") chooses whether GX records the
    vectorised results or validates every suite itself.
    """
    day = DayAudit(**options)
    batch = day.add(rows, rejects, raw)
    verdict = day.finish(batch.keys, rows_read)
    valid, quarantine = with_key_reasons(
        batch.valid, batch.quarantine, raw, verdict.key_parts, **day.ids
    )
    return AuditResult(
        valid=valid.drop_columns(["_row"]).cast(canonical.schema()),
        quarantine=quarantine,
        checks=verdict.checks,
        batch_ok=verdict.batch_ok,
        batch_reason=verdict.batch_reason,
        rows_read=rows_read,
    )
