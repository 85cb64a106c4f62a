"""Layouts of the bookkeeping tables the stages hand to each other and to the warehouse."""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

#: one row per rejected source row, with every reason it failed
QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("run_id", pa.string()),
        pa.field("row_number", pa.int64(), nullable=False),  # the raw row's `_row`
        pa.field("complaint_id", pa.string()),
        pa.field("raw", pa.string()),  # JSON of the raw values, personal data already removed
        pa.field("reasons", pa.list_(pa.string()), nullable=False),
    ]
)

#: one row per source and day and attempt: the reconciliation record
INGEST_RUN_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("connector_kind", pa.string()),
        # published | failed (extract error) | rejected (batch policy: too much bad data)
        pa.field("status", pa.string(), nullable=False),
        pa.field("started_at", TS),
        pa.field("finished_at", TS),
        pa.field("duration_s", pa.float64()),
        pa.field("rows_read", pa.int64()),
        pa.field("rows_loaded", pa.int64()),
        pa.field("rows_quarantined", pa.int64()),
        pa.field("checks_run", pa.int64()),
        pa.field("checks_failed", pa.int64()),
        pa.field("check_results", pa.string()),  # JSON list of {name, success, unexpected, ...}
        pa.field("cursor_before", pa.string()),
        pa.field("cursor_after", pa.string()),
        pa.field("error", pa.string()),
        pa.field("data_docs", pa.string()),
    ]
)
