"""Load the SQL files of ``include/sql/`` by name and run them with DuckDB prepared parameters.

A file holds one statement. Its header comment (full ``--`` lines) says its grain and inputs;
the parameters it uses are written ``$name`` and bound by DuckDB, never formatted into the text.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from complaints.config import SQL_DIR

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def load_sql(name: str, sql_dir: Path = SQL_DIR) -> str:
    """The statement in ``<sql_dir>/<name>.sql`` without its comment lines and final semicolon."""
    text = (sql_dir / f"{name}.sql").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";")


def parameters_of(sql: str) -> set[str]:
    """Names of the ``$name`` parameters a statement uses."""
    return set(_PARAM.findall(sql))


def run_sql_file(
    con: duckdb.DuckDBPyConnection, name: str, params: dict, sql_dir: Path = SQL_DIR
) -> None:
    """Run one file, binding exactly the parameters it uses (a missing one is a KeyError)."""
    sql = load_sql(name, sql_dir)
    used = parameters_of(sql)
    missing = used - params.keys()
    if missing:
        raise KeyError(f"{name}.sql needs parameters {sorted(missing)}")
    if used:
        con.execute(sql, {key: params[key] for key in used})
    else:
        con.execute(sql)
