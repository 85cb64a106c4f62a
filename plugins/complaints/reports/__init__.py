"""Rating reports for institutions and for KemenPAN-RB: PDF + XLSX, outbox index, e-mail.

Entry points: ``build_institution_report``, ``build_national_report``, ``build_reports``,
``write_index``, ``deliver_reports``. Heavy imports (WeasyPrint, matplotlib) happen on first use.
"""

from __future__ import annotations

from .data import ReportFiles

__all__ = [
    "ReportFiles",
    "build_institution_report",
    "build_national_report",
    "build_reports",
    "write_index",
    "deliver_reports",
]


def __getattr__(name):  # lazy: importing the package must stay cheap (DAG parsing)
    if name == "build_institution_report":
        from .institution import build_institution_report

        return build_institution_report
    if name == "build_national_report":
        from .national import build_national_report

        return build_national_report
    if name in ("build_reports", "write_index"):
        from . import outbox

        return getattr(outbox, name)
    if name in ("deliver_reports", "DeliverySummary"):
        from . import delivery

        return getattr(delivery, name)
    raise AttributeError(name)
