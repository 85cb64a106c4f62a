"""B6: the same CSV loaded by dlt into Parquet on the local file system.

Runs inside ``.venv-dlt`` (dlt's own pinned environment; see ``bench/requirements-dlt.txt``), so
it imports nothing from the pipeline (only the stdlib-only ``bench.memory``). The CSV is read
with pyarrow in record batches and handed to dlt as Arrow tables (dlt's fastest path: no per-row
Python objects); dlt normalises them and writes Parquet files through its filesystem destination
at a ``file://`` bucket_url.
"""

from __future__ import annotations

import json
import sys
import time


def main(csv_path: str, out_dir: str, pipelines_dir: str) -> dict:
    import os

    os.environ["RUNTIME__LOG_LEVEL"] = "WARNING"
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    t_import = time.perf_counter()
    import dlt
    import pyarrow.csv as pacsv

    t_import = time.perf_counter() - t_import

    def batches():
        reader = pacsv.open_csv(
            csv_path,
            convert_options=pacsv.ConvertOptions(
                column_types={}, strings_can_be_null=True, auto_dict_encode=False
            ),
            read_options=pacsv.ReadOptions(block_size=16 << 20),
        )
        for batch in reader:
            import pyarrow as pa

            yield pa.Table.from_batches([batch])

    t0 = time.perf_counter()
    pipeline = dlt.pipeline(
        pipeline_name="bench_b6",
        destination=dlt.destinations.filesystem(bucket_url="file://" + out_dir),
        dataset_name="complaints",
        pipelines_dir=pipelines_dir,
    )
    info = pipeline.run(
        dlt.resource(batches(), name="aduan", write_disposition="replace"),
        loader_file_format="parquet",
    )
    seconds = time.perf_counter() - t0
    rows = pipeline.last_trace.last_normalize_info.row_counts.get("aduan")
    return {
        "seconds": seconds,
        "rows": rows,
        "dlt_import_s": t_import,
        "loads": len(info.loads_ids),
        "dlt_version": dlt.__version__,
    }


if __name__ == "__main__":
    from bench.memory import vm_hwm_mb  # stdlib only; bench.runner puts the project on the path

    result = main(*sys.argv[1:4])
    result["vm_hwm_mb"] = vm_hwm_mb()
    print("BENCH-RESULT " + json.dumps(result), flush=True)
