"""B6: the same CSV loaded by dlt into Parquet on the local file system.

Runs inside ``.venv-dlt`` (dlt's own pinned environment; see ``bench/requirements-dlt.txt``), so
it imports nothing from the pipeline (only the stdlib-only ``bench.memory``). dlt normalises
what it is given and writes Parquet files through its filesystem destination at a ``file://``
bucket_url. ``reader`` says how the CSV reaches dlt:

- ``arrow`` (B6's baseline): read with pyarrow in record batches and handed to dlt as Arrow
  tables, dlt's fastest path (no per-row Python objects), written by hand for this bench;
- ``read_csv_duckdb`` and ``read_csv``: dlt's own filesystem source and readers with their
  defaults, as dlt's documentation loads a CSV file (``filesystem(...) | read_csv_duckdb()``:
  DuckDB reads it and hands on chunks of 5,000 rows as dicts; ``| read_csv()``: pandas reads it
  in chunks of 10,000 rows);
- ``read_csv_duckdb_pyarrow``: ``read_csv_duckdb(use_pyarrow=True)``, its chunks as Arrow
  tables.
"""

from __future__ import annotations

import json
import sys
import time

READERS = ("arrow", "read_csv_duckdb_pyarrow", "read_csv_duckdb", "read_csv")


def main(csv_path: str, out_dir: str, pipelines_dir: str, reader: str = "arrow") -> dict:
    import os

    if reader not in READERS:
        raise ValueError(f"reader {reader!r}: one of {', '.join(READERS)}")
    os.environ["RUNTIME__LOG_LEVEL"] = "WARNING"
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    t_import = time.perf_counter()
    import importlib

    import dlt
    import pyarrow.csv as pacsv

    if reader != "arrow":  # the module (``dlt.sources.filesystem`` also names its source)
        fs_readers = importlib.import_module("dlt.sources.filesystem")
        importlib.import_module("pandas" if reader == "read_csv" else "duckdb")
    t_import = time.perf_counter() - t_import

    def batches():
        csv_reader = pacsv.open_csv(
            csv_path,
            convert_options=pacsv.ConvertOptions(
                column_types={}, strings_can_be_null=True, auto_dict_encode=False
            ),
            read_options=pacsv.ReadOptions(block_size=16 << 20),
        )
        for batch in csv_reader:
            import pyarrow as pa

            yield pa.Table.from_batches([batch])

    t0 = time.perf_counter()
    pipeline = dlt.pipeline(
        pipeline_name="bench_b6",
        destination=dlt.destinations.filesystem(bucket_url="file://" + out_dir),
        dataset_name="complaints",
        pipelines_dir=pipelines_dir,
    )
    if reader == "arrow":
        resource = dlt.resource(batches(), name="aduan", write_disposition="replace")
    else:
        folder, name = os.path.split(os.path.abspath(csv_path))
        files = fs_readers.filesystem(bucket_url="file://" + folder, file_glob=name)
        read = getattr(fs_readers, reader.removesuffix("_pyarrow"))
        options = {"use_pyarrow": True} if reader.endswith("_pyarrow") else {}
        resource = (files | read(**options)).with_name("aduan")
        resource.apply_hints(write_disposition="replace")
    info = pipeline.run(resource, loader_file_format="parquet")
    seconds = time.perf_counter() - t0
    rows = pipeline.last_trace.last_normalize_info.row_counts.get("aduan")
    return {
        "seconds": seconds,
        "rows": rows,
        "dlt_import_s": t_import,
        "loads": len(info.loads_ids),
        "dlt_version": dlt.__version__,
        "reader": reader,
    }


if __name__ == "__main__":
    from bench.memory import vm_hwm_mb  # stdlib only; bench.runner puts the project on the path

    result = main(*sys.argv[1:5])
    result["vm_hwm_mb"] = vm_hwm_mb()
    print("BENCH-RESULT " + json.dumps(result), flush=True)
