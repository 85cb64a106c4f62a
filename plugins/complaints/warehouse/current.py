"""complaint_current: one row per complaint, its latest version, kept exact under reruns.

The latest version is the one with the greatest ``(updated_at, seen_day, version_seq)``: a newer
update wins, an equal one seen on a later day wins, and inside one day the later delivered row
wins. ``first_seen_day`` / ``last_seen_day`` span the days the complaint appeared in history.

Publishing a day merges that day's versions into the complaints' existing current rows. That is
exact except when a rerun *replaces* a day whose old versions decided a current row (it was the
chosen version, or the first or last day seen): those complaints are recomputed from their whole
history (the other days' files plus the new day), so a rerun that removes a version falls back to
the newest remaining one, and a complaint left with no version at all leaves current.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from complaints import canonical
from complaints.warehouse import layout
from complaints.warehouse.storage import Storage

DEFAULT_TZ = "Asia/Jakarta"


def null_rahasia_text(table: pa.Table) -> pa.Table:
    """A rahasia complaint's title and body never leave the institution: set them to null."""
    if table.num_rows == 0:
        return table
    secret = pc.fill_null(table["is_rahasia"], False)
    for name in ("title", "body"):
        i = table.schema.get_field_index(name)
        col = table[name]
        table = table.set_column(i, table.schema.field(i), pc.if_else(secret, None, col))
    return table


def submitted_month(table: pa.Table) -> pa.Array:
    """``YYYY-MM`` of each row's submission in the source's local time zone."""
    out = pa.nulls(table.num_rows, pa.string()).to_pylist()
    zones = pc.fill_null(table["timezone"], DEFAULT_TZ)
    for tz in pc.unique(zones).to_pylist():
        mask = pc.equal(zones, tz)
        local = table["submitted_at"].filter(mask).cast(pa.timestamp("us", tz=tz))
        months = pc.strftime(local, format="%Y-%m").to_pylist()
        idx = pc.indices_nonzero(mask).to_pylist()
        for i, m in zip(idx, months, strict=True):
            out[i] = m
    return pa.array(out, pa.string())


def _latest(candidates: pa.Table) -> pa.Table:
    """Pick the latest version per complaint; span first/last seen over all candidates."""
    if candidates.num_rows == 0:
        return layout.current_schema().empty_table()
    spans = candidates.group_by("complaint_id").aggregate([("_first", "min"), ("_last", "max")])
    ordered = candidates.sort_by(
        [
            ("complaint_id", "ascending"),
            ("updated_at", "descending"),
            ("seen_day", "descending"),
            ("version_seq", "descending"),
        ]
    )
    ids = ordered["complaint_id"].combine_chunks()
    changed = pc.not_equal(ids[1:], ids[:-1]) if len(ids) > 1 else pa.array([], pa.bool_())
    keep = pa.concat_arrays([pa.array([True]), changed])
    best = ordered.filter(keep)
    best = best.join(spans, "complaint_id").sort_by("complaint_id")
    out = best.select(list(canonical.FIELD_NAMES) + ["seen_day"])
    out = out.append_column("first_seen_day", best["_first_min"].cast(pa.date32()))
    out = out.append_column("last_seen_day", best["_last_max"].cast(pa.date32()))
    out = out.append_column("submitted_month", submitted_month(out))
    return null_rahasia_text(out).cast(layout.current_schema())


def _as_candidates(history: pa.Table) -> pa.Table:
    cols = list(canonical.FIELD_NAMES) + ["seen_day", "version_seq"]
    t = history.select(cols)
    return t.append_column("_first", t["seen_day"]).append_column("_last", t["seen_day"])


def _current_as_candidates(current: pa.Table) -> pa.Table:
    t = current.select(list(canonical.FIELD_NAMES) + ["seen_day"])
    t = t.append_column("version_seq", pa.array([-1] * current.num_rows, pa.int32()))
    t = t.append_column("_first", current["first_seen_day"])
    return t.append_column("_last", current["last_seen_day"])


def _is_in(column: str, values: list[str]) -> ds.Expression:
    return ds.field(column).isin(pa.array(values, pa.string()))


def source_files(storage: Storage, source_id: str) -> list[str]:
    """Every complaint_current file of one source (one per month it has complaints in)."""
    months = [layout.current_month(d) for d in storage.list_dirs(layout.CURRENT)]
    files = [layout.current_file(source_id, m) for m in months if m is not None]
    return [f for f in files if storage.exists(f)]


def read_current(storage: Storage, source_id: str, ids: list[str]) -> pa.Table:
    """The existing current rows of these complaints, whatever month they sit in."""
    files = source_files(storage, source_id) if ids else []
    if not files:
        return layout.current_schema().empty_table()
    dataset = ds.dataset(
        [storage.full(f) for f in files],
        schema=layout.current_schema(),
        filesystem=storage.fs,
        format="parquet",
    )
    return dataset.to_table(filter=_is_in("complaint_id", ids))


def read_history(storage: Storage, source_id: str, ids: list[str], skip_day: date) -> pa.Table:
    """History versions of these complaints from every day but ``skip_day``."""
    skip = f"/day={skip_day.isoformat()}/"
    files = [
        f
        for f in storage.list_files(f"{layout.HISTORY}/source_id={source_id}")
        if f.endswith(".parquet") and skip not in f
    ]
    if not files or not ids:
        return layout.history_schema().empty_table()
    dataset = ds.dataset(
        [storage.full(f) for f in files],
        schema=layout.history_schema(),
        filesystem=storage.fs,
        format="parquet",
    )
    return dataset.to_table(filter=_is_in("complaint_id", ids))


def merge_day(
    storage: Storage, source_id: str, day: date, new_history: pa.Table, old_day_ids: set[str]
) -> tuple[pa.Table, set[str], dict[str, pa.Table]]:
    """New current rows for the complaints the day touches.

    Returns (new rows, affected complaint ids, {month: rewritten partition}) where the
    partitions are complete replacements of every current partition that changes.
    """
    new_ids = (
        set(pc.unique(new_history["complaint_id"]).to_pylist()) if new_history.num_rows else set()
    )
    affected = sorted(new_ids | old_day_ids)
    existing = read_current(storage, source_id, affected)
    # decide which complaints need their whole history
    recompute: set[str] = set(old_day_ids)
    if existing.num_rows:
        d = pa.scalar(day, pa.date32())
        decisive = pc.or_(
            pc.or_(pc.equal(existing["first_seen_day"], d), pc.equal(existing["last_seen_day"], d)),
            pc.equal(existing["seen_day"], d),
        )
        exist_ids = existing["complaint_id"].to_pylist()
        not_decisive = {
            i for i, dec in zip(exist_ids, decisive.to_pylist(), strict=True) if not dec
        }
        recompute -= not_decisive
    rec = sorted(recompute)
    inc = [i for i in affected if i not in recompute]
    parts = []
    if rec:
        rec_hist = read_history(storage, source_id, rec, day)
        parts.append(_as_candidates(rec_hist))
        if new_history.num_rows:
            parts.append(_as_candidates(new_history.filter(_mask(new_history, rec))))
    if inc:
        if existing.num_rows:
            parts.append(_current_as_candidates(existing.filter(_mask(existing, inc))))
        if new_history.num_rows:
            parts.append(_as_candidates(new_history.filter(_mask(new_history, inc))))
    candidates = pa.concat_tables(parts, promote_options="permissive") if parts else None
    new_rows = (
        _latest(candidates) if candidates is not None else layout.current_schema().empty_table()
    )
    months = set(new_rows["submitted_month"].to_pylist())
    if existing.num_rows:
        months |= set(existing["submitted_month"].to_pylist())
    partitions: dict[str, pa.Table] = {}
    affected_arr = pa.array(affected, pa.string())
    for month in sorted(months):
        old_file = layout.current_file(source_id, month)
        old_files = [old_file] if storage.exists(old_file) else []
        kept = [storage.read_parquet(f).cast(layout.current_schema()) for f in old_files]
        kept_t = pa.concat_tables(kept) if kept else layout.current_schema().empty_table()
        kept_t = kept_t.filter(pc.invert(pc.is_in(kept_t["complaint_id"], affected_arr)))
        add = new_rows.filter(pc.equal(new_rows["submitted_month"], month))
        partitions[month] = pa.concat_tables([kept_t, add]).sort_by("complaint_id")
    return new_rows, set(affected), partitions


def _mask(table: pa.Table, ids: list[str]) -> pa.Array:
    return pc.is_in(table["complaint_id"], pa.array(ids, pa.string()))
