"""Builders for the relations compute_metrics reads, shared by the metrics tests."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pyarrow as pa

from complaints.canonical import FIELD_NAMES, TIMESTAMP_FIELDS
from complaints.registry import FRAME_COLUMNS
from complaints.tables import INGEST_RUN_SCHEMA

#: the registry's institution dimension minus the connector and contact columns
SOURCE_COLUMNS = tuple(c for c in FRAME_COLUMNS if c not in ("connector_kind", "owner_email"))


def source(
    source_id, level, province_code=None, timezone="Asia/Jakarta", population=None, name=None
):
    return {
        "source_id": source_id,
        "institution_id": source_id,
        "name": name or source_id,
        "level": level,
        "parent": None,
        "region_code": province_code,
        "province_code": province_code,
        "province_name": f"Provinsi {province_code}" if province_code else None,
        "timezone": timezone,
        "population": population,
    }


def complaint(
    complaint_id,
    institution_id,
    submitted_at,
    *,
    timezone="Asia/Jakarta",
    status="received",
    classification="pengaduan",
    berkadar=False,
    rating=None,
    **timestamps,
):
    """One complaint_current row; timestamps are UTC strings ('2024-03-01 10:00') or None."""
    row = {name: None for name in FIELD_NAMES}
    row.update(
        complaint_id=complaint_id,
        source_id=institution_id,
        institution_id=institution_id,
        region_code="00",
        timezone=timezone,
        classification=classification,
        berkadar_pengawasan=berkadar,
        channel="web",
        is_rahasia=False,
        is_anonim=False,
        status=status,
        rating=rating,
        submitted_at=submitted_at,
        updated_at=submitted_at,
    )
    for key, value in timestamps.items():
        if key not in TIMESTAMP_FIELDS:
            raise KeyError(key)
        row[key] = value
    return row


def connect(complaints: list[dict], sources: list[dict], runs: list[dict] | None = None):
    """A DuckDB connection holding complaint_current, sources and ingest_runs."""
    con = duckdb.connect()
    frame = pd.DataFrame(complaints, columns=list(FIELD_NAMES))
    for name in TIMESTAMP_FIELDS:
        frame[name] = pd.to_datetime(frame[name], utc=True)
    frame["rating"] = frame["rating"].astype("Int8")
    frame["berkadar_pengawasan"] = frame["berkadar_pengawasan"].astype("boolean")
    con.register("complaint_frame", frame)
    con.execute(
        "CREATE TABLE complaint_current AS SELECT *, "
        "CAST(submitted_at AS DATE) AS first_seen_day, "
        "CAST(updated_at AS DATE) AS last_seen_day FROM complaint_frame"
    )
    con.register("source_frame", pd.DataFrame(sources, columns=list(SOURCE_COLUMNS)))
    con.execute(
        "CREATE TABLE sources AS SELECT * REPLACE (CAST(population AS BIGINT) AS population) "
        "FROM source_frame"
    )
    runs_table = INGEST_RUN_SCHEMA.empty_table() if not runs else None
    if runs:
        runs_frame = pd.DataFrame(runs)
        for column in INGEST_RUN_SCHEMA.names:
            if column not in runs_frame:
                runs_frame[column] = None
        for column in ("started_at", "finished_at"):
            runs_frame[column] = pd.to_datetime(runs_frame[column], utc=True)
        runs_frame["day"] = pd.to_datetime(runs_frame["day"]).dt.date
        runs_table = pa.Table.from_pandas(
            runs_frame[INGEST_RUN_SCHEMA.names], schema=INGEST_RUN_SCHEMA, preserve_index=False
        )
    con.register("runs_arrow", runs_table)
    con.execute("CREATE TABLE ingest_runs AS SELECT * FROM runs_arrow")
    return con


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
