"""Run a worker task in a fresh process and read its wall time and peak RSS."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from statistics import median

from bench.memory import meminfo_mb
from complaints.config import PROJECT_ROOT

MARK = "BENCH-RESULT "
VENV_DLT = PROJECT_ROOT / ".venv-dlt"
#: MiB touched and given back just before each timed process starts (``--prefault-mb``; 0: off)
PREFAULT_MB = 3072


def prefault(mb: int) -> int:
    """Touch ``mb`` MiB (at most a quarter of the memory available) and free them; the MiB
    touched. On a VM with free page reporting (this one: Firecracker, ``page_reporting``), the
    memory a process frees goes back to the host, and the next process to touch it pays a host
    fault per page in the kernel: 1-2 s per GB here, against ~0.15 s for pages the guest still
    holds. A bare CSV->Parquet conversion that fills 1.3 GB in a second then took 1.7-2.5 s
    after a run that had freed memory, 1.0-1.1 s after one that had just touched it: the
    baseline varied with what ran before it, not with the code. Pages touched here and freed a
    moment before the worker starts are often still the guest's when it takes them; not
    always (the host takes them back as fast as it likes), hence ``cpu_sys_s`` in the results."""
    mb = max(0, min(mb, _available_mb() // 4))
    buf = bytearray(mb << 20)  # zero-filled: every page written
    del buf  # a big block: unmapped at once
    return mb


def _available_mb() -> int:
    available = meminfo_mb("MemAvailable")
    return 4096 if available is None else int(available)


def run_task(
    task: str,
    args: dict,
    python: str | None = None,
    script: list[str] | None = None,
) -> dict:
    """One process: ``python -m bench.worker task args``, started right after ``prefault``; adds
    ``peak_rss_mb``: the worker's own VmHWM when it reports one, else ``ru_maxrss`` from
    os.wait4 (which Linux raises to the memory of this process at the fork: too high once the
    bench process has generated files), and the process's user and system CPU seconds."""
    cmd = [python or sys.executable] + (script or ["-m", "bench.worker", task, json.dumps(args)])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(PROJECT_ROOT / "plugins")]),
    }
    log = tempfile.TemporaryFile(mode="w+")
    prefault(PREFAULT_MB)
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=log, text=True, cwd=PROJECT_ROOT, env=env
    )
    out = proc.stdout.read()  # until the child closes stdout (it exits)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in out.splitlines() if line.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        log.seek(0)
        raise RuntimeError(f"{task} failed ({proc.returncode}): {log.read()[-3000:]}")
    result = json.loads(lines[-1][len(MARK) :])
    result["peak_rss_mb"] = result.get("vm_hwm_mb") or usage.ru_maxrss / 1024  # KiB on Linux
    result["cpu_user_s"], result["cpu_sys_s"] = round(usage.ru_utime, 3), round(usage.ru_stime, 3)
    return result


def interleaved(runs: Mapping[str, Callable[[Path, int], dict]], n: int) -> dict[str, dict]:
    """``n`` rounds, each calling every ``runs[name](root, i)`` once in turn (A B A B ...), each
    in a fresh scratch folder: a change in the machine's speed while they run (this machine's
    varied by 30 % within an hour) falls on each alike, not on whichever ran last. Per name,
    the median of seconds and of peak RSS and every run."""
    results: dict[str, list[dict]] = {name: [] for name in runs}
    for i in range(n):
        for name, run in runs.items():
            root = Path(tempfile.mkdtemp(prefix=f"bench-{name}-", dir=scratch_dir()))
            try:
                results[name].append(run(root, i))
            finally:
                shutil.rmtree(root, ignore_errors=True)
    return {
        name: {
            "seconds": median(r["seconds"] for r in rs),
            "peak_rss_mb": median(r["peak_rss_mb"] for r in rs),
            "all_seconds": [round(r["seconds"], 3) for r in rs],
            "cpu_user_s": median(r.get("cpu_user_s", 0.0) for r in rs),
            "cpu_sys_s": median(r.get("cpu_sys_s", 0.0) for r in rs),
            "runs": rs,
        }
        for name, rs in results.items()
    }


def repeat(task: str, args_for, n: int, **kw) -> dict:
    """``n`` runs of one worker task (see ``interleaved``)."""
    return interleaved({task: lambda root, i: run_task(task, args_for(root, i), **kw)}, n)[task]


def scratch_dir() -> Path:
    path = PROJECT_ROOT / "var" / "bench" / "scratch"
    path.mkdir(parents=True, exist_ok=True)
    return path


def ensure_dlt_venv() -> Path:
    """Create ``.venv-dlt`` from bench/requirements-dlt.txt (+ constraints) on first use, and
    install again when those files change (their hash is the stamp's content)."""
    import hashlib

    python = VENV_DLT / "bin" / "python"
    stamp = VENV_DLT / ".installed"
    bench = PROJECT_ROOT / "bench"
    wanted = hashlib.sha256()
    for name in ("requirements-dlt.txt", "constraints-dlt.txt"):
        if (bench / name).exists():
            wanted.update((bench / name).read_bytes())
    if stamp.exists() and stamp.read_text() == wanted.hexdigest():
        return python
    if not python.exists():
        subprocess.run(["python3.11", "-m", "venv", str(VENV_DLT)], check=True)
    cmd = [
        str(python),
        "-m",
        "pip",
        "install",
        "--quiet",
        "-r",
        str(bench / "requirements-dlt.txt"),
    ]
    if (bench / "constraints-dlt.txt").exists():
        cmd += ["-c", str(bench / "constraints-dlt.txt")]
    subprocess.run(cmd, check=True)
    stamp.write_text(wanted.hexdigest())
    return python
