"""``python -m bench``: run B1..B7 on generated data and write bench/results/<timestamp>.md/.json.

Every figure is the median of ``--repeats`` fresh processes (peak memory: each process's own VmHWM),
shown beside its baseline measured in the same run. Generated data is cached under var/bench/.
``python -m bench compare [OLD] [NEW]`` sets two results files side by side (bench/compare.py).
"""

from __future__ import annotations

import argparse
import sys

from bench import compare, dlt_load, runner, suite, worker


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--only", default="B1,B2,B3,B4,B5,B6,B7", help="comma list, e.g. B1,B7")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--b1-rows", type=int, default=1_000_000)
    p.add_argument("--b4-rows", default="1000000,3000000,10000000")
    p.add_argument("--warehouse-rows", type=int, default=5_000_000)
    p.add_argument("--b2-registry", default="small", choices=["small", "full"])
    p.add_argument("--b2-scale", type=float, default=1.0)
    p.add_argument(
        "--b2-into",
        type=int,
        default=0,
        help="B2's day published into the generated warehouse of this many rows (B3/B5's, "
        "e.g. 100000000), linked file by file into each repeat's folder, instead of an empty "
        "warehouse where every source has its first day (0, the default)",
    )
    p.add_argument(
        "--b5-rows",
        type=int,
        default=None,
        help="versions in B5's day (default: the simulator's day of the source at the "
        "warehouse's volume)",
    )
    p.add_argument(
        "--b6-dlt-readers",
        default=None,
        help="dlt's own CSV readers with their defaults to time once each beside B6, e.g. "
        "read_csv_duckdb,read_csv (~1 min each; --full: both); "
        "read_csv_duckdb(use_pyarrow=True) always runs in B6's rounds",
    )
    p.add_argument(
        "--b1-without",
        default="",
        help="a what-if beside B1, never the verdict: the same ingest with parts switched off "
        f"({', '.join(worker.WITHOUT)}; e.g. raw,hmac), to measure what they cost",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="also the issue's sizes for B3/B5 (a 100M-row warehouse, ~9 min to generate once, "
        "8.6 GB) and B2 (the full registry at ~1M complaints, ~4 min to simulate once), and "
        "dlt's own CSV readers beside B6; B1 and B4 run at the issue's sizes by default",
    )
    p.add_argument(
        "--prefault-mb",
        type=int,
        default=runner.PREFAULT_MB,
        help="MiB touched and freed just before each timed process, so that it does not pay "
        "for pages a VM with free page reporting gave back to its host (0: off)",
    )
    p.add_argument("--results", default=None, help="folder for the results (bench/results)")
    a = p.parse_args(argv)
    if a.b6_dlt_readers is None:
        a.b6_dlt_readers = "read_csv_duckdb,read_csv" if a.full else ""
    if a.full:
        a.warehouse_rows = 100_000_000
        a.b2_registry, a.b2_scale = "full", 13.6
    a.b4_rows = [int(x) for x in str(a.b4_rows).split(",") if x]
    a.b6_dlt_readers = [x.strip() for x in a.b6_dlt_readers.split(",") if x.strip()]
    unknown = sorted(set(a.b6_dlt_readers) - set(dlt_load.READERS))
    if unknown:  # before minutes of other benchmarks, not when B6 gets to them
        p.error(f"--b6-dlt-readers: unknown {', '.join(unknown)}; known: {dlt_load.READERS}")
    a.b1_without = [x.strip() for x in a.b1_without.split(",") if x.strip()]
    try:
        worker.check_parts(a.b1_without)
    except ValueError as exc:
        p.error(f"--b1-without: {exc}")
    a.only = [x.strip().upper() for x in a.only.split(",") if x.strip()]
    return a


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["compare"]:
        return compare.main(argv[1:], suite.RESULTS)
    args = parse(argv)
    md, _ = suite.run(args)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
