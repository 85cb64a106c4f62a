"""Build every report of a period into the outbox and keep ``outbox/index.html`` current.

Layout: ``<outbox>/<period>/<period_start>/<institution_id>/<id>_<period>_<start>.pdf|.xlsx``
plus ``meta.json``; the national report sits in the ``nasional`` folder beside them.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

from . import data, pdf
from . import formatting as f
from .data import NATIONAL_ID, ReportFiles
from .institution import build_institution_report, render_institution_report
from .national import build_national_report

log = logging.getLogger(__name__)


def institutions_to_report(con, period: str, period_start: date) -> list[str]:
    df = data.institution_period(con, period, period_start)
    return sorted(df.loc[df["total"].fillna(0) > 0, "institution_id"].astype(str))


def build_reports(
    con, period: str, period_start: date, outbox: Path, *, workers: int = 1
) -> list[ReportFiles]:
    """Every institution with complaints in the period, then the national report; then the
    index. A failing institution is logged and skipped so that the others still get theirs;
    the failures are re-raised together at the end.

    ``workers > 1`` renders the institutions' PDFs in that many worker processes (queries stay
    in this process); keep 1 where the caller may not start processes (daemonic workers).
    """
    outbox = Path(outbox)
    built: list[ReportFiles] = []
    failed: list[tuple[str, Exception]] = []
    started = time.perf_counter()
    ids = institutions_to_report(con, period, period_start)
    shared = data.PeriodShared(con, period, period_start)
    if workers <= 1:
        for institution_id in ids:
            try:
                built.append(
                    build_institution_report(
                        con, institution_id, period, period_start, outbox, shared
                    )
                )
            except Exception as exc:  # one bad institution must not stop the run
                log.exception("report for %s %s %s failed", institution_id, period, period_start)
                failed.append((institution_id, exc))
    else:
        mp = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp) as pool:
            futures = {}
            for institution_id in ids:
                try:
                    d = data.load_institution(con, institution_id, period, period_start, shared)
                    futures[pool.submit(render_institution_report, d, outbox)] = institution_id
                except Exception as exc:
                    log.exception("report for %s failed", institution_id)
                    failed.append((institution_id, exc))
            for future, institution_id in futures.items():
                try:
                    built.append(future.result())
                except Exception as exc:
                    log.exception("report for %s failed", institution_id)
                    failed.append((institution_id, exc))
    built.append(build_national_report(con, period, period_start, outbox, shared))
    write_index(outbox)
    log.info(
        "built %d reports for %s %s in %.1f s", len(built), period, period_start,
        time.perf_counter() - started,
    )  # fmt: skip
    if failed:
        names = ", ".join(i for i, _ in failed)
        raise RuntimeError(f"{len(failed)} report(s) failed: {names}") from failed[0][1]
    return built


def _entries(outbox: Path) -> list[dict]:
    entries = []
    for meta_path in outbox.glob("*/*/*/meta.json"):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        folder = meta_path.parent
        rel = folder.relative_to(outbox).as_posix()
        meta["pdf_href"] = f"{rel}/{meta['pdf']}" if (folder / meta["pdf"]).exists() else None
        meta["xlsx_href"] = f"{rel}/{meta['xlsx']}" if (folder / meta["xlsx"]).exists() else None
        entries.append(meta)
    entries.sort(
        key=lambda e: (
            e["period"],
            e["period_start"],
            e["institution_id"] != NATIONAL_ID,
            e.get("name", ""),
        )
    )
    return entries


def write_index(outbox: Path) -> Path:
    """Write ``outbox/index.html`` listing every report found in the outbox (newest first)."""
    outbox = Path(outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    groups: dict[tuple[str, str], list[dict]] = {}
    for e in _entries(outbox):
        groups.setdefault((e["period"], e["period_start"]), []).append(e)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0]), reverse=True)
    html = pdf.render_html(
        "index.html",
        {
            "groups": [
                {
                    "period": p,
                    "start": s,
                    "label": items[0].get("period_label", s),
                    "reports": items,
                }
                for (p, s), items in ordered
            ],
            "total": sum(len(items) for items in groups.values()),
            "generated": f.fmt_date(date.today()),
        },
    )
    path = outbox / "index.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
