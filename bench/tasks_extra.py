"""Worker tasks for B2 (national day), B3 (analyst queries) and B5 (publish into a big
warehouse)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench.worker import DAY, copy_gx_project, settings_for

MONTH = "2026-09"
YEAR = ("2025-01", "2025-12")
QUARTER = ("2026-07", "2026-09")
PROVINCE = "31"
#: SLA limit in calendar days from forwarding (14 working days ~ 20 days; 5 ~ 7 days)
SLA_DAYS = {"pengaduan": 20, "aspirasi": 7, "permintaan_informasi": 7}
AS_OF = "2026-10-31 17:00:00+00"

if TYPE_CHECKING:
    import numpy as np


def _queries(institution: str, months_macro: bool = True, interval: bool = False) -> dict[str, str]:
    """The three B3 questions in SQL, as docs/warehouse.md tells analysts to write them:
    ``months_macro``: each reads its months through the catalog's
    ``complaint_current_months(first, last)``, else through the ``complaint_current`` view
    filtered on ``submitted_month``; the SLA durations through the catalog's
    ``elapsed_days(start, end)``, or with ``interval`` through TIMESTAMPTZ arithmetic."""
    limit = " ".join(f"when '{k}' then {v}" for k, v in SLA_DAYS.items())
    end = f"coalesce(closed_at, timestamptz '{AS_OF}')"
    if interval:
        late = f"{end} - forwarded_at > to_days(case classification {limit} end)"
    else:
        late = f"elapsed_days(forwarded_at, {end}) > case classification {limit} end"

    def months(first: str, last: str) -> str:
        if months_macro:
            return f"complaint_current_months('{first}', '{last}') where true"
        return f"complaint_current where submitted_month between '{first}' and '{last}'"

    # constants of this module only (no outside input): S608 does not apply
    return {
        "national_month": f"""
            select status, count(*) as n, round(avg(rating), 4) as rating_avg
            from {months(MONTH, MONTH)}
            group by status order by status""",  # noqa: S608
        "institution_year": f"""
            select submitted_month, count(*) as n,
                   count(*) filter (where status in ('followed_up', 'closed')) as followed_up,
                   round(avg(rating), 4) as rating_avg
            from {months(*YEAR)}
              and institution_id = '{institution}'
            group by submitted_month order by submitted_month""",  # noqa: S608
        "province_sla_breaches": f"""
            select institution_id, count(*) as breaches
            from {months(*QUARTER)}
              and (region_code = '{PROVINCE}' or region_code like '{PROVINCE}.%')
              and forwarded_at is not null
              and {late}
            group by institution_id order by institution_id""",  # noqa: S608
    }


def _pandas_answers(root: Path, institution: str) -> dict[str, tuple[float, list]]:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.dataset as ds

    current = root / "complaint_current"
    # the month is in the path and in the files: read it as a plain string
    keys = pa.schema([("submitted_month", pa.string())])
    part = ds.partitioning(keys, flavor="hive")

    def read_parquet(path, **kw):
        return pd.read_parquet(path, partitioning=part, **kw)

    out = {}
    t0 = time.perf_counter()
    df = read_parquet(
        current, columns=["status", "rating"], filters=[("submitted_month", "==", MONTH)]
    )
    g = df.groupby("status").agg(n=("status", "size"), rating_avg=("rating", "mean"))
    rows = [
        (s, int(r.n), None if pd.isna(r.rating_avg) else round(float(r.rating_avg), 4))
        for s, r in g.sort_index().iterrows()
    ]
    out["national_month"] = (time.perf_counter() - t0, rows)

    t0 = time.perf_counter()
    df = read_parquet(
        current,
        columns=["submitted_month", "status", "rating"],
        filters=[
            ("institution_id", "==", institution),
            ("submitted_month", ">=", YEAR[0]),
            ("submitted_month", "<=", YEAR[1]),
        ],
    )
    df["fu"] = df["status"].isin(["followed_up", "closed"])
    g = df.groupby("submitted_month").agg(
        n=("status", "size"), fu=("fu", "sum"), rating_avg=("rating", "mean")
    )
    rows = [
        (m, int(r.n), int(r.fu), None if pd.isna(r.rating_avg) else round(float(r.rating_avg), 4))
        for m, r in g.sort_index().iterrows()
    ]
    out["institution_year"] = (time.perf_counter() - t0, rows)

    t0 = time.perf_counter()
    df = read_parquet(
        current,
        columns=["institution_id", "region_code", "classification", "forwarded_at", "closed_at"],
        filters=[("submitted_month", ">=", QUARTER[0]), ("submitted_month", "<=", QUARTER[1])],
    )
    rc = df["region_code"].astype(str)
    df = df[((rc == PROVINCE) | rc.str.startswith(PROVINCE + ".")) & df["forwarded_at"].notna()]
    end = df["closed_at"].fillna(pd.Timestamp(AS_OF))
    limit = pd.to_timedelta(df["classification"].astype(str).map(SLA_DAYS), unit="D")
    df = df[(end - df["forwarded_at"]) > limit]
    g = df.groupby("institution_id").size().sort_index()
    out["province_sla_breaches"] = (time.perf_counter() - t0, [(k, int(v)) for k, v in g.items()])
    return out


def task_queries(args: dict) -> dict:
    """B3: the three analyst queries, DuckDB over the catalog vs pandas over the same Parquet."""
    import duckdb

    root = Path(args["warehouse"])
    repeats = int(args.get("repeats", 5))
    institution = args["institution"]
    if args["engine"] == "pandas":
        runs = [_pandas_answers(root, institution) for _ in range(repeats)]
        return {
            name: {
                "seconds": sorted(r[name][0] for r in runs)[len(runs) // 2],
                "answer": runs[0][name][1],
            }
            for name in runs[0]
        }
    from complaints.warehouse.catalog import ANALYST_SETTINGS

    con = duckdb.connect(str(root / "catalog.duckdb"), read_only=True)
    con.execute(ANALYST_SETTINGS)  # what docs/warehouse.md tells analysts to run first
    out = {}
    view = {f"{name}_view": sql for name, sql in _queries(institution, False).items()}
    late = "province_sla_breaches"
    interval = {f"{late}_interval": _queries(institution, interval=True)[late]}
    for name, sql in {**_queries(institution), **view, **interval}.items():
        times, answer = [], None
        for _ in range(repeats + 1):  # the first run warms the file list and metadata cache
            t0 = time.perf_counter()
            answer = [
                tuple(
                    None if v is None else (round(v, 4) if isinstance(v, float) else v) for v in row
                )
                for row in con.execute(sql).fetchall()
            ]
            times.append(time.perf_counter() - t0)
        cold, warm = times[0], sorted(times[1:])[len(times[1:]) // 2]
        out[name] = {"seconds": warm, "cold_seconds": cold, "answer": answer}
    con.close()
    return out


def task_catalog(args: dict) -> dict:
    """Write catalog.duckdb over a generated warehouse (once, with the warehouse module)."""
    from complaints.warehouse.catalog import refresh_catalog
    from complaints.warehouse.storage import LocalStorage

    t0 = time.perf_counter()
    refresh_catalog(LocalStorage(args["warehouse"]))
    return {"seconds": time.perf_counter() - t0}


def _source_current_files(warehouse: Path, source_id: str) -> list[Path]:
    """The source's complaint_current files, oldest month first (``<month>/<source>.parquet``)."""
    from complaints.warehouse import layout

    return sorted((warehouse / layout.CURRENT).glob(f"submitted_month=*/{source_id}.parquet"))


def simulated_day_mix(source, day: dt.date = DAY) -> tuple[float, np.ndarray, np.ndarray]:
    """The simulator's mix of one source-day's versions: the share of complaints submitted that
    day, and for the others (updates) their age in days since submission and their status."""
    import pandas as pd

    from complaints.simulate import model

    sim = model.versions(source, day, day, broken_share=0.0, text_values=False)
    age = (pd.Timestamp(day) - sim["submitted_at"].dt.normalize()).dt.days.to_numpy()
    upd = age > 0
    return float((~upd).mean()), age[upd], sim["status"].to_numpy()[upd].astype(str)


def _day_versions(source, n: int | None, existing_dir: Path, seed: int) -> tuple:
    """A source-day of canonical versions shaped like the simulator's day of the source
    (``simulated_day_mix``): its share of new complaints (submitted that day); the rest update
    existing complaints of the warehouse, picked so that their ages since submission follow the
    simulator's (most a few days old, a tail back to ``LIFECYCLE_DAYS``), with its statuses.

    ``n`` versions, or with ``None`` as many as the simulator would send for the source's daily
    volume in the warehouse (its complaints submitted in the last four weeks, a day's worth, as
    the new share). Fewer updates when the warehouse holds fewer complaints of those ages.
    Returns the versions and how many of them are updates."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from bench import whgen
    from complaints import canonical
    from complaints.simulate.distributions import LIFECYCLE_DAYS

    rng = np.random.default_rng(seed)
    share_new, sim_ages, sim_status = simulated_day_mix(source)
    first_month = f"{np.datetime64(DAY) - np.timedelta64(LIFECYCLE_DAYS, 'D')}"[:7]
    files = [
        f
        for f in _source_current_files(existing_dir, source.id)
        if f.parent.name.split("=", 1)[1] >= first_month
    ]
    old = pa.concat_tables([pq.read_table(f) for f in files]) if files else None
    age = np.zeros(0, np.int64)
    if old is not None:
        age = np.datetime64(DAY, "D") - old["first_seen_day"].to_numpy(zero_copy_only=False)
        age = age.astype(np.int64)
    if n is None:
        n = max(1, round(np.count_nonzero((age > 0) & (age <= 28)) / 28 / share_new))
    n_new = round(n * share_new)
    # a day's new complaints: submitted that (local) day, as the simulator's stand at its end
    new = whgen.complaints(source, n_new, rng, 10**9, end=DAY, regions=["31"], span_s=86400)
    parts = [new.select(list(canonical.FIELD_NAMES))]
    ts = pa.timestamp("us", tz="UTC")
    day_s = int(np.datetime64(DAY.isoformat(), "s").astype(np.int64))
    k = 0
    in_range = (age > 0) & (age <= LIFECYCLE_DAYS)
    if old is not None and n > n_new and in_range.any():
        # each existing row weighted by the simulator's share of its age over the rows of that
        # age, so that the picked rows' ages follow the simulator's
        sim_p = np.bincount(sim_ages, minlength=LIFECYCLE_DAYS + 1) / len(sim_ages)
        of_age = np.bincount(age[in_range], minlength=LIFECYCLE_DAYS + 1)
        w = np.zeros(len(age))
        w[in_range] = sim_p[age[in_range]] / of_age[age[in_range]]
        k = min(n - n_new, int(np.count_nonzero(w)))
        pick = np.sort(rng.choice(len(age), size=k, replace=False, p=w / w.sum()))
        upd = old.take(pa.array(pick)).select(list(canonical.FIELD_NAMES))
        stamp = pa.array((day_s + rng.integers(0, 86000, k)) * 10**6, ts)
        upd = upd.set_column(upd.schema.get_field_index("updated_at"), "updated_at", stamp)
        status = pa.array(rng.choice(sim_status, size=k))
        upd = upd.set_column(upd.schema.get_field_index("status"), "status", status)
        parts.append(upd)
    t = pa.concat_tables([p.cast(canonical.schema()) for p in parts])
    return t.filter(pc.is_valid(t["complaint_id"])), k


def task_publish_day(args: dict) -> dict:
    """B5: Warehouse.publish_source_day of one source-day into a given warehouse.

    With ``restore`` the source's own folders are copied aside first and put back afterwards,
    so the generated warehouse is the same for every repeat.
    """
    from complaints import tables
    from complaints.pipeline import registry_for
    from complaints.warehouse import Warehouse, layout

    root = Path(args["warehouse"])
    settings = settings_for(Path(args["root"]))
    source = registry_for(settings).source(args["source"])
    rows = args.get("rows")
    versions, updates = _day_versions(
        source, None if rows is None else int(rows), Path(args.get("existing_from", root)), seed=3
    )
    backup = Path(args["root"]) / "backup"
    cur_root = root / layout.CURRENT
    if args.get("restore"):
        for f in _source_current_files(root, source.id):
            target = backup / f.relative_to(cur_root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)
    wh = Warehouse(settings, root=str(root))
    run = {
        "run_id": f"bench-{os.getpid()}",
        "status": "published",
        "rows_read": versions.num_rows,
        "rows_loaded": versions.num_rows,
        "rows_quarantined": 0,
    }
    try:
        t0 = time.perf_counter()
        result = wh.publish_source_day(
            source.id,
            DAY,
            raw=None,
            versions=versions,
            quarantine=tables.QUARANTINE_SCHEMA.empty_table(),
            run=run,
        )
        seconds = time.perf_counter() - t0
    finally:
        if args.get("restore"):
            for table in (layout.HISTORY, layout.QUARANTINE, layout.INGEST_RUNS, layout.RAW):
                shutil.rmtree(root / table / f"source_id={source.id}", ignore_errors=True)
            for f in _source_current_files(root, source.id):
                f.unlink()
            if backup.exists():
                shutil.copytree(backup, cur_root, dirs_exist_ok=True)
                shutil.rmtree(backup)
    return {
        "seconds": seconds,
        "rows": versions.num_rows,
        "updates": updates,
        "current_partitions": len(result["current_partitions"]),
    }


def _national_env(cache: Path, root: Path, registry: Path) -> dict[str, str]:
    from complaints.orchestration.local import airflow_env

    env = airflow_env(settings_for(cache))  # one migrated Airflow DB per cached data set
    env.update(
        {
            "COMPLAINTS_DATA_DIR": str(root),
            "COMPLAINTS_SOURCES_DIR": str(cache / "sources"),
            "COMPLAINTS_REGISTRY": str(registry),
            "COMPLAINTS_ENV": "local",
            "COMPLAINTS_SIM_SQL_URL": f"sqlite:///{cache / 'sources' / 'regional.sqlite'}",
        }
    )
    return env


def task_simulate_day(args: dict) -> dict:
    """Simulate every registry source for the day (cached: skipped when its marker exists)."""
    import json

    from complaints.pipeline import registry_for
    from complaints.simulate import simulate

    cache, registry = Path(args["cache"]), Path(args["registry"])
    marker = cache / "simulated.json"
    if marker.exists():
        return json.loads(marker.read_text())
    settings = settings_for(cache, registry=registry, sources_dir=cache / "sources")
    t0 = time.perf_counter()
    summary = simulate(
        settings,
        registry_for(settings).sources,
        DAY,
        DAY,
        scale=args["scale"],
        now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )
    frame = summary.to_frame()
    meta = {
        "versions": int(summary.versions),
        "sources": int(frame["source_id"].nunique()),
        "by_kind": {k: int(v) for k, v in frame.groupby("connector_kind").versions.sum().items()},
        "seconds": time.perf_counter() - t0,
    }
    marker.write_text(json.dumps(meta))
    return meta


def link_copy(src: Path, dst: Path) -> int:
    """``dst`` as a copy of the warehouse ``src`` whose Parquet files are hard links (the
    others, such as the DuckDB catalog, are copied); the files linked. A publish never changes
    a Parquet file in place: it writes a new one under ``_staging/`` and renames it over the
    old name, or deletes the name, so ``src`` stays as it was."""
    linked = 0
    for folder, _, names in os.walk(src):
        target = dst / Path(folder).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            if name.endswith(".parquet"):
                os.link(Path(folder) / name, target / name)
                linked += 1
            else:
                shutil.copy2(Path(folder) / name, target / name)
    return linked


def task_national_day(args: dict) -> dict:
    """B2: complaints_daily with dag.test() (``airflow``) or a plain loop of ingest_source;
    with ``into``, published into a linked copy of that generated warehouse."""
    import secrets

    from complaints.config import Settings

    cache, root = Path(args["cache"]), Path(args["root"])
    os.environ.update(_national_env(cache, root, Path(args["registry"])))
    settings = Settings.from_env()
    if args.get("into"):  # outside the clock
        link_copy(Path(args["into"]), Path(settings.warehouse))
    from complaints import pipeline
    from complaints.daily import day_summary
    from complaints.orchestration.local import load_dag, local_connections, prepare_airflow
    from complaints.simulate import serve_api

    copy_gx_project(settings.data_dir / "gx")  # as B1: the GX project exists after the first day
    token = secrets.token_hex(16)
    with serve_api(settings, token=token) as api:
        os.environ.update(local_connections(settings, api.base_url, token))
        if args["mode"] == "airflow":
            prepare_airflow(settings)
            dag = load_dag("complaints_daily")
            t0 = time.perf_counter()
            dag_run = dag.test(run_conf={"day": DAY.isoformat()})
            seconds = time.perf_counter() - t0
            state = str(getattr(dag_run, "state", dag_run))
            if not state.lower().endswith("success"):
                raise RuntimeError(f"complaints_daily ended {state}, not success")
        else:
            ids = pipeline.list_source_ids(settings)
            t0 = time.perf_counter()
            for sid in ids:
                pipeline.ingest_source(
                    sid, DAY, settings=settings, as_of=dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
                )
            seconds = time.perf_counter() - t0
            state = "done"
    rows = day_summary(DAY, settings)
    return {
        "seconds": seconds,
        "state": state,
        "rows_read": sum(r["rows_read"] or 0 for r in rows),
        "published": sum(r["status"] == "published" for r in rows),
        "sources": len(rows),
    }


TASKS = {name[5:]: fn for name, fn in globals().items() if name.startswith("task_")}
