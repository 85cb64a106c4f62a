"""The results of a ``python -m bench`` run: the machine it ran on and its Markdown table."""

from __future__ import annotations

import os
import platform
import subprocess

from bench.memory import meminfo_mb
from complaints.config import PROJECT_ROOT


def machine() -> dict:
    import duckdb
    import numpy
    import pandas
    import pyarrow

    info = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "pyarrow": pyarrow.__version__,
        "pandas": pandas.__version__,
        "duckdb": duckdb.__version__,
        "numpy": numpy.__version__,
    }
    try:
        with open("/proc/cpuinfo") as fh:
            info["cpu"] = next(
                line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")
            )
        info["load_avg"] = os.getloadavg()
    except (OSError, StopIteration):
        pass
    total = meminfo_mb("MemTotal")
    if total is not None:
        info["ram_gb"] = round(total / 1024, 1)
    from importlib.metadata import version

    for pkg in ("apache-airflow", "great_expectations", "sqlalchemy"):
        try:
            info[pkg] = version(pkg)
        except Exception:  # noqa: BLE001
            info[pkg] = None
    git = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=PROJECT_ROOT
    )
    info["git_commit"] = git.stdout.strip()
    return info


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
    return str(v)


def to_markdown(result: dict) -> str:
    m = result["machine"]
    out = [
        f"# Benchmark results {result['started']}",
        "",
        f"CPU {m.get('cpu')} ({m.get('cores')} cores), RAM {m.get('ram_gb')} GB, load "
        f"{m.get('load_avg')}; Python {m['python']}; Airflow {m.get('apache-airflow')}, GX "
        f"{m.get('great_expectations')}, pyarrow {m['pyarrow']}, pandas {m['pandas']}, "
        f"DuckDB {m['duckdb']}, SQLAlchemy {m.get('sqlalchemy')}; commit {m['git_commit']}.",
        "",
        f"Arguments: `{result['args']}`. Each figure is the median of the repeats, each "
        "repeat a fresh process; the ratio is figure / baseline of the same run.",
        "",
        "| # | what | size | figure | baseline | ratio | target | met | notes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result["rows"]:
        met = (
            ("no verdict" if r["target"] else "")
            if r["ok"] is None
            else ("yes" if r["ok"] else "**no**")
        )
        out.append(
            f"| {r['id']} | {r['what']} | {r['size']} | {_fmt(r['value'])} {r['unit']} | "
            f"{_fmt(r['baseline'])} | {_fmt(r['ratio'])} | {r['target']} | {met} | "
            f"{r['note']} |"
        )
    for e in result.get("errors", []):
        out.append(f"| {e['id']} | failed | | | | | | **no** | {e['error'][:300]} |")
    return "\n".join(out) + "\n"
