"""A benchmark process's own peak memory and the machine's memory (stdlib only: the dlt venv
imports it too)."""

from __future__ import annotations


def vm_hwm_mb() -> float | None:
    """This process's own peak resident memory (``VmHWM``), in MB; None where /proc has none.

    Unlike ``ru_maxrss``, which Linux carries over from the forking parent's memory, VmHWM
    belongs to the process's own address space: a worker started by a bench process that grew
    to 900 MB while generating files reports what the worker used."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def meminfo_mb(field: str) -> float | None:
    """A ``/proc/meminfo`` field (``MemTotal``, ``MemAvailable``, ...) in MB; None without it."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None
