"""Airflow adapters: the only part of the package that knows about Airflow.

Everything here is light to import (no pandas, no pyarrow at module level) because DAG files
import it at parse time.
"""
