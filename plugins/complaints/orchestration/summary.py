"""The per-source run summary a data engineer reads in the task log of each daily run."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

COLUMNS = ("source_id", "status", "rows_read", "rows_loaded", "rows_quarantined", "error")


def format_summary(day: str, rows: list[dict]) -> str:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    head = f"complaints_daily {day}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    widths = [
        max(len(c), *(len(str(r.get(c) if r.get(c) is not None else "")) for r in rows))
        if rows
        else len(c)
        for c in COLUMNS
    ]
    widths = [min(w, 60) for w in widths]
    line = " | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True))
    body = [
        " | ".join(
            str(r.get(c) if r.get(c) is not None else "")[:60].ljust(w)
            for c, w in zip(COLUMNS, widths, strict=True)
        )
        for r in rows
    ]
    return "\n".join([head, line, "-" * len(line), *body])


def log_source_run(run: dict) -> str:
    """One line per source-day for the ingest task's log: status and the reconciliation."""
    text = (
        f"{run['source_id']} {run['day']}: {run['status']}, read {run.get('rows_read')} = "
        f"loaded {run.get('rows_loaded')} + quarantined {run.get('rows_quarantined')}"
    )
    if run.get("error"):
        text += f"; {run['error']}"
    log.info("%s", text)
    return text


def log_summary(day: str, rows: list[dict], data_docs: str | None = None) -> str:
    text = format_summary(day, rows)
    if data_docs:
        text += f"\nquality results (Data Docs, rendered by complaints_quality_docs): {data_docs}"
    log.info("%s", text)
    return text
