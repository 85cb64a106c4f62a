"""Generated benchmark data, written in bulk with numpy/pyarrow (no Python loop over rows).

The distributions (classification, channel, category, ratings, flags) and the export vocabulary
(column names, status words, Indonesian month names) are imported from ``complaints.simulate``
so the generated files look like the simulator's; only the per-row Python rendering is replaced
by vectorised code so that 10,000,000 rows or a 100,000,000-row warehouse take minutes.

Everything is cached under ``var/bench/`` keyed on its parameters: a rerun does not regenerate.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from complaints.config import PROJECT_ROOT, REFERENCE_REGIONS
from complaints.simulate import distributions, model
from complaints.simulate.exports import COLUMNS, EVENT_WORDS, MONTHS_ID, VALUE_WORDS
from complaints.simulate.texts import CLOSINGS, OPENINGS, TITLES

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
SHAPE = "ekspor_berkas"
#: lifecycle events in order (distributions.EVENTS without "archived", which branches off verified)
FLOW = ("submitted", "verified", "forwarded", "first_response", "followed_up", "closed")
FLOW_P = (0.06, 0.10, 0.12, 0.22, 0.20, 0.25)  # share of versions in each state, + archived
P_ARCHIVED_VERSION = 0.05
TZ_OFFSET_H = {"Asia/Jakarta": 7, "Asia/Makassar": 8, "Asia/Jayapura": 9}


def _pick(rng: np.random.Generator, values, p, n: int) -> pa.Array:
    """n draws of ``values`` with probabilities ``p`` as a dictionary-decoded string array."""
    p = np.asarray(p, dtype=float)
    idx = rng.choice(len(values), size=n, p=p / p.sum())
    return pa.array(list(values), pa.string()).take(pa.array(idx))


def _digits(rng: np.random.Generator, n: int, width: int, prefix: str = "") -> pa.Array:
    nums = rng.integers(0, 10**width, size=n, dtype=np.int64)
    text = pc.utf8_lpad(pc.cast(pa.array(nums), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, text, "") if prefix else text


def regions() -> list[str]:
    with open(REFERENCE_REGIONS, encoding="utf-8") as fh:
        return [row["code"] for row in csv.DictReader(fh)]


def _two(values) -> pa.Array:
    return pc.utf8_lpad(pc.cast(values, pa.string()), 2, "0")


def _fmt_times(ts: pa.Array, rng: np.random.Generator) -> pa.Array:
    """Local naive timestamps as people write them: "22 Juni 2022 14:05" or "22/06/2022 14:05".

    Built from date parts (``pc.strftime`` is about 30x slower per value).
    """
    year = pc.cast(pc.year(ts), pa.string())
    month = pc.month(ts)
    hhmm = pc.binary_join_element_wise(_two(pc.hour(ts)), _two(pc.minute(ts)), ":")
    slash = pc.binary_join_element_wise(
        pc.binary_join_element_wise(_two(pc.day(ts)), _two(month), year, "/"), hhmm, " "
    )
    names = pa.array(MONTHS_ID).take(pc.subtract(month, 1))
    long = pc.binary_join_element_wise(pc.cast(pc.day(ts), pa.string()), names, year, hhmm, " ")
    use_long = pa.array(rng.random(len(ts)) < 0.5)
    return pc.if_else(use_long, long, slash)


def source_rows(
    n: int, source_id: str, region: str | None, day: dt.date, seed: int = 7, start: int = 0
) -> pa.Table:
    """``n`` complaint versions updated on local ``day``, in the ekspor_berkas export shape.

    Every value is text (as a CSV holds it); empty cells are nulls. Row ``i`` has ticket
    ``<source>-<start+i>``, so consecutive chunks of one file never repeat a key.
    """
    rng = np.random.default_rng([seed, model.source_hash(source_id), day.toordinal(), start])
    names = COLUMNS[SHAPE]
    region_pool = regions()
    cols: dict[str, pa.Array] = {}
    ids = pa.array(np.arange(start, start + n, dtype=np.int64))
    cols["complaint_id"] = pc.binary_join_element_wise(
        f"LPR-{source_id.upper()}-", pc.utf8_lpad(pc.cast(ids, pa.string()), 9, "0"), ""
    )
    if region:
        cols["region_code"] = pa.array([region] * n, pa.string())
    else:
        cols["region_code"] = _pick(rng, region_pool, np.ones(len(region_pool)), n)
    words = VALUE_WORDS[SHAPE]
    cls = [words["classification"][c] for c in distributions.CLASSIFICATIONS]
    cols["classification"] = _pick(rng, cls, distributions.CLASSIFICATION_P, n)
    yes_no = pa.array(["Tidak", "Ya"])
    for name, p in (
        ("berkadar_pengawasan", distributions.P_PENGAWASAN),
        ("is_rahasia", distributions.P_RAHASIA),
        ("is_anonim", distributions.P_ANONIM),
    ):
        cols[name] = yes_no.take(pa.array((rng.random(n) < p).astype(np.int8)))
    cols["category"] = _pick(rng, distributions.CATEGORIES, distributions.CATEGORY_P, n)
    chans = [words["channel"][c] for c in distributions.CHANNELS]
    cols["channel"] = _pick(rng, chans, distributions.CHANNEL_P, n)
    titles = [t for group in TITLES.values() for t in group]
    cols["title"] = _pick(rng, titles, np.ones(len(titles)), n)
    bodies = [
        f"{o} {t.lower()} di wilayah kami. {c}"
        for o in OPENINGS
        for t in titles[:12]
        for c in CLOSINGS
    ]
    cols["body"] = _pick(rng, bodies, np.ones(len(bodies)), n)

    # lifecycle: state index 0..5 along FLOW, or archived after verification
    state = rng.choice(len(FLOW), size=n, p=np.asarray(FLOW_P) / sum(FLOW_P))
    archived = rng.random(n) < P_ARCHIVED_VERSION
    state = np.where(archived, 1, state)
    ev = EVENT_WORDS[SHAPE]
    status_words = [ev[e][0] for e in FLOW] + [ev["archived"][0]]
    cols["status"] = pa.array(status_words).take(pa.array(np.where(archived, 6, state)))
    rated = (state == 5) & (rng.random(n) < distributions.P_RATED)
    rating = rng.choice(5, size=n, p=distributions.RATING_P) + 1
    cols["rating"] = pc.if_else(pa.array(rated), pc.cast(pa.array(rating), pa.string()), None)
    cols["reporter_nik"] = _digits(rng, n, 16)
    first = _pick(rng, ("Agus", "Budi", "Siti", "Dewi", "Rina", "Ahmad", "Putri"), np.ones(7), n)
    last = _pick(rng, ("Santoso", "Wijaya", "Saputra", "Hidayat", "Lestari"), np.ones(5), n)
    cols["reporter_name"] = pc.binary_join_element_wise(first, last, " ")
    cols["reporter_phone"] = _digits(rng, n, 9, "0812")
    cols["reporter_email"] = pc.binary_join_element_wise(
        pc.utf8_lower(first), _digits(rng, n, 4), "@gmail.com", ""
    )
    # times (naive local): updated on `day`; milestones spread back to submission
    day0 = np.datetime64(day.isoformat(), "s").astype(np.int64)
    updated = day0 + rng.integers(6 * 3600, 22 * 3600, size=n)
    age = rng.integers(0, 60 * 86400, size=n)  # seconds since submission
    age = np.where(state == 0, np.minimum(age, updated - day0), age)
    submitted = updated - age
    fracs = np.sort(rng.random((n, len(FLOW) - 1)), axis=1)
    stamps = {"submitted_at": submitted}
    milestone_names = (
        "verified_at",
        "forwarded_at",
        "first_response_at",
        "followed_up_at",
        "closed_at",
    )
    for k, name in enumerate(milestone_names, start=1):
        t = submitted + (fracs[:, k - 1] * age).astype(np.int64)
        t = np.where(state == k, updated, t)  # the last event is the update itself
        present = (state >= k) & ~(archived & (k > 1))
        stamps[name] = np.where(present, t, -1)
    stamps["updated_at"] = updated
    for name, values in stamps.items():
        arr = pa.array(values.astype("datetime64[s]"), mask=values < 0)
        cols[name] = _fmt_times(arr, rng)
    order = [c for c in names]
    return pa.table({names[c]: cols[c] for c in order})


def write_source_csv(
    path: Path, n: int, source_id: str, region: str | None, day: dt.date, chunk: int = 500_000
) -> Path:
    """Write an n-row ekspor_berkas CSV (UTF-8, comma) in chunks; cached by path."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with pa.OSFile(str(tmp), "wb") as sink:
        writer = None
        for start in range(0, n, chunk):
            t = source_rows(min(chunk, n - start), source_id, region, day, start=start)
            if writer is None:
                writer = pacsv.CSVWriter(sink, t.schema)
            writer.write_table(t)
        if writer is not None:
            writer.close()
    tmp.replace(path)
    return path


def cached_csv(n: int, source_id: str, region: str | None, day: dt.date) -> Path:
    """The benchmark's n-row file for a source-day, under var/bench/files/ (generated once)."""
    name = f"{source_id}_{day:%Y%m%d}_{n}.csv"
    return write_source_csv(BENCH_DIR / "files" / name, n, source_id, region, day)


def drop_file(drop_dir: Path, source_id: str, day: dt.date, csv_path: Path) -> Path:
    """Place the cached file in a source's drop folder for ``day`` (hard link, else copy)."""
    folder = Path(drop_dir) / source_id / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"ekspor_aduan_{source_id}_{day:%Y%m%d}.csv"
    if not target.exists():
        try:
            target.hardlink_to(csv_path)
        except OSError:
            import shutil

            shutil.copyfile(csv_path, target)
    return target


def write_meta(path: Path, meta: dict) -> None:
    path.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
