"""A generated warehouse: ``complaint_current`` of N complaints over three years, written directly
as Parquet in the warehouse module's layout
(``complaint_current/submitted_month=<YYYY-MM>/<source_id>.parquet``, schema
``complaints.warehouse.layout.current_schema()``).

Complaints are shared out over every registry source in proportion to the simulator's volume
weights (population for regions, size class for central institutions), with the simulator's
channel/category distributions. Each complaint's classification, status, milestones and rating
as of ``END_DAY`` are those of a complaint the simulator submitted as many days before its end
(``lifecycle_pool``): the last weeks' complaints are still in process, older ones are closed or
archived, or stalled where the simulator stalls them. Only ``complaint_current`` is generated:
the analyst queries (B3) read it, and publishing a day (B5) reads and rewrites the source's
current partitions; ``complaint_history``/``raw`` of past days are not read by either.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.gen import BENCH_DIR
from complaints import canonical
from complaints.simulate import model
from complaints.simulate.texts import TITLES
from complaints.warehouse import layout

END_DAY = dt.date(2026, 10, 31)
YEARS = 3
SECONDS_3Y = YEARS * 365 * 86400
CHUNK = 2_000_000  # rows generated at a time for one source
TZ_OFFSET_S = {"Asia/Jakarta": 7 * 3600, "Asia/Makassar": 8 * 3600, "Asia/Jayapura": 9 * 3600}
#: the simulator's complaints of this source give every source's lifecycles (they do not depend
#: on the source); a big one, so that every age has hundreds
POOL_SOURCE = "prov-32"
#: ages of the pool, in days: past the simulator's LIFECYCLE_DAYS (100) nothing changes any more
POOL_DAYS = 130
LATER = canonical.MILESTONES[1:]  # verified_at .. closed_at


def source_weights(sources) -> np.ndarray:
    """Relative daily volume per source (regions by population, central by size class)."""
    import csv

    from complaints.config import REFERENCE_REGIONS

    with open(REFERENCE_REGIONS, encoding="utf-8") as fh:
        pop = {r["code"]: float(r["population"] or 0) for r in csv.DictReader(fh)}
    out = []
    for s in sources:
        if s.level in model.PER_CAPITA and s.region_code in pop:
            out.append(pop[s.region_code] * model.PER_CAPITA[s.level])
        else:
            out.append(model.CENTRAL_SIZES.get(s.level, (8.0, 15.0, 25.0))[1])
    w = np.asarray(out, dtype=float)
    return w / w.sum()


def _take(rng, values, p, n) -> pa.Array:
    p = np.asarray(p, dtype=float)
    return pa.array(list(values), pa.string()).take(
        pa.array(rng.choice(len(values), n, p=p / p.sum()))
    )


def complaints(
    source,
    n: int,
    rng: np.random.Generator,
    start_id: int = 0,
    end: dt.date = END_DAY,
    regions: list[str] | None = None,
    span_s: int = SECONDS_3Y,
) -> pa.Table:
    """``n`` current rows of one source (canonical fields + current columns) as they stand at the
    end of ``end``, submitted over the ``span_s`` seconds before it, vectorised."""
    tz = source.timezone
    off = TZ_OFFSET_S.get(tz, 7 * 3600)
    end_s = int(np.datetime64(end.isoformat(), "s").astype(np.int64)) + 86400 - off
    sub = end_s - 1 - rng.integers(0, span_s, n)
    sub_day = ((sub + off) // 86400).astype("datetime64[D]")
    pool = lifecycle_pool(end)
    life = _pick_lifecycles(pool, (np.datetime64(end, "D") - sub_day).astype(np.int64), rng)
    cols: dict[str, pa.Array] = {}
    ids = pc.cast(pa.array(np.arange(start_id, start_id + n, dtype=np.int64)), pa.string())
    cols["complaint_id"] = pc.binary_join_element_wise(f"LPR-{source.id.upper()}-", ids, "")
    cols["source_id"] = pa.repeat(pa.scalar(source.id, pa.string()), n)
    cols["institution_id"] = cols["source_id"]
    if source.region_code:
        cols["region_code"] = pa.repeat(pa.scalar(source.region_code, pa.string()), n)
    else:
        cols["region_code"] = _take(rng, regions, np.ones(len(regions)), n)
    cols["timezone"] = pa.repeat(pa.scalar(tz, pa.string()), n)
    cols["classification"] = _labels(pool, "classification", life)
    cols["berkadar_pengawasan"] = pa.array(pool["berkadar_pengawasan"][life])
    cols["category"] = _take(rng, model.CATEGORIES, model.CATEGORY_P, n)
    cols["channel"] = _take(rng, model.CHANNELS, model.CHANNEL_P, n)
    rahasia = rng.random(n) < model.P_RAHASIA
    cols["is_rahasia"] = pa.array(rahasia)
    cols["is_anonim"] = pa.array(rng.random(n) < model.P_ANONIM)
    titles = [t for group in TITLES.values() for t in group]
    title = _take(rng, titles, np.ones(len(titles)), n)
    cols["title"] = pc.if_else(pa.array(rahasia), None, title)
    cols["body"] = pc.if_else(
        pa.array(rahasia), None, pc.binary_join_element_wise("Mohon ditindaklanjuti:", title, " ")
    )
    cols["status"] = _labels(pool, "status", life)
    rating = pool["rating"][life]
    cols["rating"] = pa.array(rating.astype(np.int8), mask=rating == 0)
    cols["reporter_key"] = pc.cast(pa.array(rng.integers(0, 2**62, n)), pa.string())
    ts = pa.timestamp("us", tz="UTC")
    cols["submitted_at"] = pa.array(sub * 1_000_000, ts)
    last = sub.copy()
    for k, name in enumerate(LATER):
        offset = pool["offsets"][life, k]
        present = ~np.isnan(offset)
        at = np.minimum(sub + np.nan_to_num(offset).astype(np.int64), end_s - 1)  # >= sub
        cols[name] = pa.array(at * 1_000_000, ts, mask=~present)
        last = np.where(present, np.maximum(last, at), last)
    cols["updated_at"] = pa.array(last * 1_000_000, ts)
    local_day = ((last + off) // 86400).astype("datetime64[D]")
    cols["seen_day"] = pa.array(local_day)
    cols["first_seen_day"] = pa.array(sub_day)
    cols["last_seen_day"] = pa.array(local_day)
    months, month_idx = np.unique(sub_day.astype("datetime64[M]"), return_inverse=True)
    cols["submitted_month"] = pa.array(months.astype(str), pa.string()).take(month_idx)
    return pa.table(cols).cast(layout.current_schema())


@lru_cache(maxsize=2)
def lifecycle_pool(end: dt.date) -> dict[str, np.ndarray]:
    """The simulator's complaints of ``POOL_SOURCE`` submitted in the ``POOL_DAYS`` before
    ``end`` (inclusive), as they stand at its end, sorted by ``age`` (days from the local
    submission day to ``end``): ``classification`` and ``status`` (each as its distinct
    values and every complaint's code), ``berkadar_pengawasan``, ``rating`` (0: none) and
    ``offsets`` (seconds from submission to each of ``LATER``, NaN where not reached)."""
    from complaints.registry import load_registry

    source = load_registry().source(POOL_SOURCE)
    start = end - dt.timedelta(days=POOL_DAYS)
    frame = model.versions(source, start, end, broken_share=0.0, text_values=False)
    frame = frame[frame["submitted_at"] >= np.datetime64(start, "s")]
    frame = frame.sort_values(["complaint_id", "updated_at"]).drop_duplicates(
        "complaint_id", keep="last"
    )
    age = np.datetime64(end, "D") - frame["submitted_at"].to_numpy().astype("datetime64[D]")
    order = np.argsort(age.astype(np.int64), kind="stable")
    submitted = frame["submitted_at"].to_numpy().astype("datetime64[s]").astype(np.int64)
    offsets = np.stack(
        [
            np.where(
                frame[name].isna().to_numpy(),
                np.nan,
                frame[name].to_numpy().astype("datetime64[s]").astype(np.int64) - submitted,
            )
            for name in LATER
        ],
        axis=1,
    )
    return {
        "age": age.astype(np.int64)[order],
        "classification": _coded(frame["classification"].to_numpy().astype(str)[order]),
        "berkadar_pengawasan": frame["berkadar_pengawasan"].to_numpy(dtype=bool)[order],
        "status": _coded(frame["status"].to_numpy().astype(str)[order]),
        "rating": frame["rating"].fillna(0).to_numpy(dtype=np.int64)[order],
        "offsets": offsets[order],
    }


def _coded(texts: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    values, codes = np.unique(texts, return_inverse=True)
    return pa.array(values.tolist(), pa.string()), codes


def _labels(pool: dict, name: str, rows: np.ndarray) -> pa.Array:
    """A text column of the pool at these rows (taken from its few values: fast)."""
    values, codes = pool[name]
    return values.take(pa.array(codes[rows]))


def _pick_lifecycles(pool: dict, age: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For complaints of these ages, rows of ``pool`` of the same age, at random (older than
    the pool: one of its settled ages, past the simulator's lifecycle)."""
    settled = model.LIFECYCLE_DAYS + 1
    age = np.where(age >= POOL_DAYS, rng.integers(settled, POOL_DAYS, len(age)), age)
    age = np.clip(age, 0, POOL_DAYS - 1)
    first = np.searchsorted(pool["age"], np.arange(POOL_DAYS + 1))
    count = np.diff(first)
    if (count == 0).any():
        raise ValueError(
            f"the simulator's pool has no complaints of ages {np.flatnonzero(count == 0)}"
        )
    return first[age] + (rng.random(len(age)) * count[age]).astype(np.int64)


def build(root: Path, total: int, sources, seed: int = 11) -> dict:
    """Write the warehouse under ``root`` (skipped when its marker says it is complete)."""
    marker = root / "_bench_complete.json"
    if marker.exists():
        return json.loads(marker.read_text())
    if root.exists():
        shutil.rmtree(root)
    from bench.gen import regions as region_codes

    regions = region_codes()
    t0 = time.perf_counter()
    weights = source_weights(sources)
    counts = np.random.default_rng(seed).multinomial(total, weights)
    files = 0
    for i, (source, n) in enumerate(zip(sources, counts, strict=True)):
        rng = np.random.default_rng([seed, i])
        writers: dict[str, pq.ParquetWriter] = {}
        try:  # a big source in chunks, each month's file growing by one row group per chunk
            for start in range(0, int(n), CHUNK):
                part = complaints(source, min(CHUNK, int(n) - start), rng, start, regions=regions)
                _write_months(root, source.id, part, writers)
        finally:
            for w in writers.values():
                w.close()
        files += len(writers)
    meta = {
        "rows": int(total),
        "sources": len(sources),
        "files": files,
        "seconds": round(time.perf_counter() - t0, 1),
        "end_day": END_DAY.isoformat(),
    }
    marker.write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def _write_months(
    root: Path, source_id: str, table: pa.Table, writers: dict[str, pq.ParquetWriter]
) -> None:
    table = table.sort_by([("submitted_month", "ascending"), ("complaint_id", "ascending")])
    months = table["submitted_month"].combine_chunks()
    ends = np.flatnonzero(pc.not_equal(months[1:], months[:-1]).to_numpy(zero_copy_only=False))
    bounds = [0, *(ends + 1).tolist(), len(table)]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if b <= a:
            continue
        month = months[a].as_py()
        if month not in writers:
            path = root / layout.current_file(source_id, month)
            path.parent.mkdir(parents=True, exist_ok=True)
            writers[month] = pq.ParquetWriter(path, table.schema)
        writers[month].write_table(table.slice(a, b - a))


def warehouse_root(total: int) -> Path:
    return BENCH_DIR / f"warehouse-{total}-month-files" / "warehouse"
