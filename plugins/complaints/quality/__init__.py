"""Data quality stage: GX suites, vectorised row checks, quarantine, reconciliation, Data Docs."""

from complaints.quality.audit import AuditResult, ReconciliationError, audit_batch
from complaints.quality.gx_runner import build_data_docs, data_docs_index, gx_mode

__all__ = [
    "AuditResult",
    "ReconciliationError",
    "audit_batch",
    "build_data_docs",
    "data_docs_index",
    "gx_mode",
]
