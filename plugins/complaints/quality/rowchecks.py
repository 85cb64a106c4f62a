"""Vectorised row-level checks: the suite files, evaluated per row with pyarrow/pandas.

Each row-level expectation in the suite files (``meta.level == "row"``) is interpreted here as a
boolean mask over the batch, computed column-wise (no Python loop over rows). A row failing an
expectation gets that expectation's ``meta.rule`` as its quarantine reason, so the reasons and
the GX results speak the same names. ``rule_counts`` holds, per rule, the number of rows GX is
expected to report as unexpected; ``audit`` compares the two.

The key rule is the one exception: GX counts every row of a non-unique (complaint_id, updated_at)
key, while the row checks keep the first of several exact copies (the others get
``"duplicate row"``) and quarantine every version of a key sent with different contents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from complaints.quality.keys import KEY, key_duplicates, key_records
from complaints.quality.suites import ROW_SUITES, load_suite_spec

DUPLICATE_ROW = "duplicate row"
CONFLICTING_VERSIONS = "conflicting versions of complaint_id and updated_at"
KEY_RULE = "key not unique"


@dataclass
class RowChecks:
    """Per-reason masks over the batch (in suite order) and per-rule unexpected counts."""

    masks: dict[str, np.ndarray] = field(default_factory=dict)
    rule_counts: dict[str, int] = field(default_factory=dict)
    num_rows: int = 0
    #: rows GX counts as unexpected where that differs from the reason mask (the key rule)
    rule_masks: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, reason: str, mask: np.ndarray) -> None:
        if reason in self.masks:
            self.masks[reason] = self.masks[reason] | mask
        else:
            self.masks[reason] = mask

    def rule_mask(self, rule: str) -> np.ndarray:
        """Rows GX reports as unexpected for ``rule`` (``rule_counts[rule]`` of them)."""
        if rule in self.rule_masks:
            return self.rule_masks[rule]
        return self.masks.get(rule, np.zeros(self.num_rows, dtype=bool))

    def bad(self) -> np.ndarray:
        """Mask of rows with at least one reason."""
        out = np.zeros(self.num_rows, dtype=bool)
        for mask in self.masks.values():
            out |= mask
        return out

    def reason_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(row positions, reasons) of every failure, sorted by row then suite order."""
        if not self.masks:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
        names = np.array(list(self.masks), dtype=object)
        failing = np.flatnonzero(self.bad())  # most batches have none or a few
        matrix = np.vstack([mask[failing] for mask in self.masks.values()])  # reasons x failing
        at, which = np.nonzero(matrix.T)  # row-major: sorted by row, then reason order
        return failing[at].astype(np.int64), names[which]


def _param(value, params: Mapping):
    if isinstance(value, dict) and "$PARAMETER" in value:
        return params[value["$PARAMETER"]]
    return value


def _mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A boolean Arrow array with nulls read as False, as numpy."""
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _scalar(value, typ: pa.DataType) -> pa.Scalar:
    return pa.scalar(value, type=typ)


def _row_mask(table: pa.Table, exp: dict, params: Mapping) -> np.ndarray:
    kind, kw = exp["type"], exp["kwargs"]
    if kind == "expect_column_values_to_not_be_null":
        return _mask(pc.is_null(table[kw["column"]]))
    if kind == "expect_column_values_to_be_in_set":
        col = table[kw["column"]]
        allowed = pa.array(sorted(_param(kw["value_set"], params)), type=col.type)
        return _mask(pc.and_(pc.is_valid(col), pc.invert(pc.is_in(col, value_set=allowed))))
    if kind == "expect_column_values_to_be_between":
        col = table[kw["column"]]
        out = pa.array(np.zeros(len(col), dtype=bool))
        low, high = _param(kw.get("min_value"), params), _param(kw.get("max_value"), params)
        if low is not None:
            out = pc.or_(out, pc.less(col, _scalar(low, col.type)))
        if high is not None:
            out = pc.or_(out, pc.greater(col, _scalar(high, col.type)))
        return _mask(out)
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        if kw.get("ignore_row_if") != "either_value_is_missing":
            raise ValueError("pair checks must ignore rows where either value is missing")
        a, b = table[kw["column_A"]], table[kw["column_B"]]
        op = pc.less if kw.get("or_equal") else pc.less_equal
        return _mask(op(a, b))  # null when either is missing -> not a failure
    raise ValueError(f"no vectorised row check for {kind}")


def _key_checks(table: pa.Table, key: list[str], checks: RowChecks, rule: str) -> None:
    """Exact copies beyond the first, and keys sent with different contents (``keys``)."""
    if tuple(key) != KEY:
        raise ValueError(f"the key rule is vectorised for {KEY}, not {tuple(key)}")
    n = table.num_rows
    dups = key_duplicates(key_records(table, 0, np.zeros(n, dtype=bool)))
    pos = dups["pos"].to_numpy()
    key_dup = np.zeros(n, dtype=bool)
    key_dup[pos] = True
    checks.rule_counts[rule] = int(np.count_nonzero(key_dup))
    checks.rule_masks[rule] = key_dup
    for reason, flag in ((DUPLICATE_ROW, "copy"), (CONFLICTING_VERSIONS, "conflict")):
        mask = np.zeros(n, dtype=bool)
        mask[pos[_mask(dups[flag])]] = True
        checks.add(reason, mask)


def run_row_checks(
    table: pa.Table, params: Mapping, suites: Iterable[str] = ROW_SUITES, *, keys: bool = True
) -> RowChecks:
    """Evaluate every row-level expectation of ``suites`` on ``table`` (canonical columns).

    ``table`` must hold every canonical column with its canonical type (``audit`` conforms it);
    other columns (``_row``) are ignored. ``params`` fills the suites' ``$PARAMETER``s.
    ``keys=False`` leaves the key rule out (a streamed day checks it over all its batches).
    """
    checks = RowChecks(num_rows=table.num_rows)
    for suite in suites:
        for exp in load_suite_spec(suite)["expectations"]:
            meta = exp.get("meta", {})
            if meta.get("level") != "row":
                continue
            rule = meta["rule"]
            if exp["type"] == "expect_compound_columns_to_be_unique":
                if keys:
                    _key_checks(table, list(exp["kwargs"]["column_list"]), checks, rule)
                continue
            mask = _row_mask(table, exp, params)
            checks.rule_counts[rule] = int(np.count_nonzero(mask))
            checks.add(rule, mask)
    return checks
