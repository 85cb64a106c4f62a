"""One measured task per process: ``python -m bench.worker <task> '<json args>'``.

The parent (``bench.runner``) starts a fresh process per repeat; the child prints one JSON line
(prefixed ``BENCH-RESULT``) with its wall time, its own peak memory (``VmHWM``) and task-specific
figures. Imports happen before the clock starts unless the task is about them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

MARK = "BENCH-RESULT "
FILE_SOURCE = "kab-5102"  # a file source of the committed registry (mapping ekspor_berkas)
FILE_REGION = "51.02"
DAY = dt.date(2026, 10, 30)


def settings_for(root: Path, registry: Path | None = None, sources_dir: Path | None = None):
    from complaints.config import INCLUDE_DIR, Settings

    return Settings(
        env="local",
        data_dir=root,
        warehouse=str(root / "warehouse"),
        outbox=root / "outbox",
        registry=registry or INCLUDE_DIR / "registry" / "sources.yaml",
        sources_dir=sources_dir or root / "sources",
    )


def copy_gx_project(gx_dir: Path) -> None:
    """Put an existing GX project (suites, validation definitions) in ``gx_dir``, as every day
    after a deployment's first finds it: a source-day's process then records without GX. The
    project is created once, by a child process, under ``var/bench/gx`` and copied from there."""
    import shutil

    from bench import gen
    from complaints.quality import gx_store

    template = gen.BENCH_DIR / "gx"
    if gx_store.project_ids(template) is None:  # none yet, or older suite files
        code = "import sys, pathlib; from complaints.quality import gx_runner; "
        code += "gx_runner.get_gx(pathlib.Path(sys.argv[1]))"
        subprocess.run([sys.executable, "-c", code, str(template)], check=True)
    shutil.copytree(template, gx_dir)


#: parts of B1's ingest that ``--b1-without`` can switch off, to measure what they cost
WITHOUT = ("raw", "hmac")


def check_parts(parts: list[str]) -> None:
    """Refuse a part ``switch_off`` does not know (``python -m bench`` asks before it starts)."""
    unknown = sorted(set(parts) - set(WITHOUT))
    if unknown:
        raise ValueError(f"cannot switch off {', '.join(unknown)}; known: {', '.join(WITHOUT)}")


def switch_off(parts: list[str]) -> None:
    """A what-if for the benchmark only, never the pipeline: ``raw`` publishes no raw layer
    (the day's raw rows are spilled but not written to the warehouse); ``hmac`` leaves
    ``privacy.reporter_key`` as it is but for the HMAC-SHA256 of its distinct NIKs: each gets
    its position among them instead (no NIK in the output)."""
    import numpy as np
    import pyarrow as pa

    from complaints import privacy, streaming

    check_parts(parts)
    if "raw" in parts:
        datasets = streaming.SourceDay.datasets
        streaming.SourceDay.datasets = lambda self: {**datasets(self), "raw": None}
    if "hmac" in parts:

        def positions(key: bytes, messages) -> pa.Array:
            return pa.array(np.arange(len(messages))).cast(pa.string())

        privacy._hmac_sha256_hex = privacy._hmac_sha256_hex_duckdb = positions


def task_ingest_file(args: dict) -> dict:
    """B1/B4: ingest_source on a file source whose day holds one generated CSV (with
    ``without``, parts switched off: ``switch_off``)."""
    from bench import gen
    from complaints import pipeline

    switch_off(args.get("without", []))
    root = Path(args["root"])
    settings = settings_for(root)
    gen.drop_file(settings.drop_dir, FILE_SOURCE, DAY, Path(args["csv"]))
    pipeline.registry_for(settings)  # parse the registry outside the clock
    copy_gx_project(settings.data_dir / "gx")
    t0 = time.perf_counter()
    if args.get("profile"):
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    run = pipeline.ingest_source(
        FILE_SOURCE, DAY, settings=settings, as_of=dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    )
    seconds = time.perf_counter() - t0
    if args.get("profile"):
        prof.disable()
        prof.dump_stats(args["profile"])
    if run["status"] != "published":
        raise RuntimeError(f"ingest did not publish: {run}")
    return {
        "seconds": seconds,
        "gx_imported": "great_expectations" in sys.modules,  # its import would be in seconds
        "rows_loaded": run["rows_loaded"],
        "rows_quarantined": run["rows_quarantined"],
    }


def task_csv_to_parquet(args: dict) -> dict:
    """B1 baseline: a bare pyarrow CSV -> Parquet conversion of the same file."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    out = Path(args["root"]) / "bare.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    table = pacsv.read_csv(args["csv"])
    pq.write_table(table, out)
    return {"seconds": time.perf_counter() - t0, "rows": table.num_rows}


def task_parse_dags(args: dict) -> dict:
    """B7: parse the dags/ folder with a DagBag, the way the dag-processor does."""
    from complaints.config import PROJECT_ROOT
    from complaints.orchestration.local import airflow_env

    os.environ.update(airflow_env(settings_for(Path(args["root"]))))
    t0 = time.perf_counter()
    from airflow.dag_processing.dagbag import DagBag

    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"), safe_mode=False)
    seconds = time.perf_counter() - t1
    if bag.import_errors:
        raise RuntimeError(f"dags/ does not import: {bag.import_errors}")
    return {
        "seconds": seconds,
        "airflow_import_s": t_import,
        "dags": len(bag.dags),
        "per_file_s": {Path(k).name: v.duration.total_seconds() for k, v in _stats(bag).items()},
    }


def _stats(bag) -> dict:
    stats = getattr(bag, "dagbag_stats", None) or []
    return {s.file: s for s in stats if hasattr(s, "duration")}


TASKS = {name[5:]: fn for name, fn in globals().items() if name.startswith("task_")}


def main(argv: list[str]) -> int:
    name, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    if name not in TASKS:
        from bench import tasks_extra

        fn = tasks_extra.TASKS[name]
    else:
        fn = TASKS[name]
    result = fn(args)
    from bench.memory import vm_hwm_mb

    result["vm_hwm_mb"] = vm_hwm_mb()
    print(MARK + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
