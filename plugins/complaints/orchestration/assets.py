"""The Assets that chain the DAGs: publishing updates the warehouse, metrics follow, reports
follow."""

from __future__ import annotations

from airflow.sdk import Asset

COMPLAINT_CURRENT = Asset(
    name="complaint_current", uri="file://complaints/warehouse/complaint_current"
)
INSTITUTION_METRICS = Asset(
    name="institution_metrics", uri="file://complaints/warehouse/institution_metrics"
)
#: the day's Great Expectations validation results (written by the ingest tasks)
QUALITY_RESULTS = Asset(name="quality_results", uri="file://complaints/gx/validations")
