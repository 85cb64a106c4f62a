"""National, regional and institutional metrics, computed by the SQL in ``include/sql/``.

See docs/metrics.md for every definition.
"""

from complaints.metrics.compute import METRIC_TABLES, PERIODS, compute_metrics
from complaints.metrics.sql_files import load_sql, run_sql_file

__all__ = ["METRIC_TABLES", "PERIODS", "compute_metrics", "load_sql", "run_sql_file"]
