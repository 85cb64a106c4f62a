"""One source's day: extract -> pseudonymise -> map -> audit -> publish (write-audit-publish).

`ingest_source` is the function the daily DAG maps over the registry; the day-level stages that
follow it live in `complaints.daily`. Neither needs Airflow; XCom carries only small dicts.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

import pyarrow as pa

from complaints import canonical
from complaints.config import Settings
from complaints.tables import QUARANTINE_SCHEMA

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _registry(path: str):
    from complaints.registry import load_registry

    return load_registry(Path(path))


def registry_for(settings: Settings):
    return _registry(str(settings.registry))


@lru_cache(maxsize=1)
def _known_regions() -> frozenset[str]:
    import csv

    from complaints.config import REFERENCE_REGIONS

    with open(REFERENCE_REGIONS, encoding="utf-8") as fh:
        return frozenset(row["code"] for row in csv.DictReader(fh))


def _now() -> datetime:
    return datetime.now(UTC)


def new_run_id(day: date) -> str:
    return f"{day.isoformat()}-{uuid.uuid4().hex[:12]}"


def _with_row_numbers(batch: pa.Table, offset: int) -> pa.Table:
    rows = pa.array(range(offset, offset + batch.num_rows), type=pa.int64())
    return batch.append_column("_row", rows)


def _concat(tables: list[pa.Table]) -> pa.Table | None:
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="permissive")


def list_source_ids(settings: Settings | None = None, kinds=None, ids=None) -> list[str]:
    settings = settings or Settings.from_env()
    return [s.id for s in registry_for(settings).select(ids=ids, kinds=kinds)]


def ingest_source(
    source_id: str,
    day: date,
    *,
    settings: Settings | None = None,
    run_id: str | None = None,
    as_of: datetime | None = None,
) -> dict:
    """Extract, check and publish one source's day. Returns its ingest_runs row.

    Raises SourceError when the source cannot be read (after the connector's own retries);
    the failed attempt is recorded in ``ingest_runs`` first, so nothing goes unaccounted.
    """
    from complaints.connectors import SourceError, Window, open_connector
    from complaints.mapping import map_batch
    from complaints.privacy import install_log_redaction, load_key, pseudonymise
    from complaints.quality import audit_batch, data_docs_index
    from complaints.warehouse import Warehouse

    install_log_redaction()  # idempotent: secrets and NIK/phone/e-mail shapes never reach logs
    settings = settings or Settings.from_env()
    registry = registry_for(settings)
    source = registry.source(source_id)
    mapping = registry.mapping_for(source)
    warehouse = Warehouse(settings)
    run_id = run_id or new_run_id(day)
    as_of = as_of or _now()
    started = _now()
    cursor_before = warehouse.last_cursor(source_id)
    run = {
        "run_id": run_id,
        "source_id": source_id,
        "day": day,
        "connector_kind": source.connector.kind,
        "started_at": started,
        "cursor_before": cursor_before,
    }

    def finish(status: str, **fields) -> dict:
        finished = _now()
        run.update(fields)
        run.update(
            status=status,
            finished_at=finished,
            duration_s=(finished - started).total_seconds(),
        )
        return run

    key = load_key(settings)
    window = Window.for_day(day, source.timezone, cursor=cursor_before)
    raw_parts: list[pa.Table] = []
    read = 0
    try:
        connector = open_connector(source, settings)
        for batch in connector.read(window):
            batch = _with_row_numbers(batch, read)
            read += batch.num_rows
            raw_parts.append(pseudonymise(batch, mapping, key))
    except SourceError as exc:
        # rows read before the failure are kept in quarantine, so read = loaded + quarantined
        partial = _concat(raw_parts)
        quarantine = None
        if partial is not None and partial.num_rows:
            quarantine = _quarantine_all(
                partial, source_id=source_id, day=day, run_id=run_id,
                reason=f"source failed: {exc.message if hasattr(exc, 'message') else exc}",
            )  # fmt: skip
        warehouse.record_run(
            source_id,
            day,
            finish(
                "failed",
                rows_read=read,
                rows_loaded=0,
                rows_quarantined=read,
                error=str(exc),
            ),
            quarantine=quarantine,
        )
        raise
    raw = _concat(raw_parts)
    notes = list(getattr(connector, "notes", []) or [])
    if raw is None:
        raw = pa.table({"_row": pa.array([], type=pa.int64())})

    mapped = map_batch(raw, source, mapping)
    result = audit_batch(
        mapped.rows,
        mapped.rejects,
        raw,
        source_id=source_id,
        day=day,
        run_id=run_id,
        as_of=as_of,
        known_regions=set(_known_regions()),
        known_institutions={s.id for s in registry.sources},
        recent_counts=warehouse.recent_row_counts(source_id, before=day),
        threshold=source.quarantine_threshold or settings.quarantine_threshold,
        rows_read=read,
        gx_dir=settings.data_dir / "gx",
        # a day with no rows has no columns to miss (an empty or header-only file)
        required_columns={f: mapping.columns[f] for f in canonical.MAPPING_REQUIRED}
        if read
        else None,
    )
    checks = result.checks
    summary = dict(
        rows_read=read,
        checks_run=len(checks),
        checks_failed=sum(1 for c in checks if not c["success"]),
        check_results=json.dumps(checks, default=str),
        data_docs=str(data_docs_index(settings.data_dir / "gx")),
        error="; ".join(notes) or None,
    )
    if not result.batch_ok:
        # The whole day is refused: its rows all go to quarantine (nothing lost), and the
        # source's previously published data stays exactly as it was.
        ids = pa.concat_tables(
            [
                mapped.rows.select(["_row", "complaint_id"]).cast(ID_SCHEMA),
                mapped.rejects.select(["_row", "complaint_id"]).cast(ID_SCHEMA),
            ]
        )
        quarantine = _quarantine_all(
            raw, source_id=source_id, day=day, run_id=run_id,
            reason=f"day rejected: {result.batch_reason}", prior=result.quarantine, ids=ids,
        )  # fmt: skip
        run_row = finish(
            "rejected",
            rows_loaded=0,
            rows_quarantined=quarantine.num_rows,
            cursor_after=cursor_before,
            **{**summary, "error": "; ".join([result.batch_reason, *notes])},
        )
        warehouse.record_run(source_id, day, run_row, quarantine=quarantine)
        log.warning("source %s day %s rejected: %s", source_id, day, result.batch_reason)
        return _public(run_row)

    cursor_after = max(filter(None, [cursor_before, connector.max_updated]), default=None)
    run_row = finish(
        "published",
        rows_loaded=result.valid.num_rows,
        rows_quarantined=result.quarantine.num_rows,
        cursor_after=cursor_after,
        **summary,
    )
    if run_row["rows_read"] != run_row["rows_loaded"] + run_row["rows_quarantined"]:
        raise AssertionError(f"reconciliation broken for {source_id} {day}: {run_row}")
    warehouse.publish_source_day(
        source_id,
        day,
        raw=raw,
        versions=result.valid,
        quarantine=result.quarantine,
        run=run_row,
    )
    return _public(run_row)


ID_SCHEMA = pa.schema([("_row", pa.int64()), ("complaint_id", pa.string())])


def _quarantine_all(
    raw: pa.Table,
    *,
    source_id: str,
    day: date,
    run_id: str,
    reason: str,
    prior: pa.Table | None = None,
    ids: pa.Table | None = None,
) -> pa.Table:
    """Every raw row as a quarantine row: its own reasons (``prior``) plus ``reason``.

    Used when a whole source-day is refused (batch policy) or the source failed part-way, so
    that no row read goes unrecorded. ``ids`` maps ``_row`` to the mapped complaint id.
    """
    prior_rows = {r["row_number"]: r for r in prior.to_pylist()} if prior is not None else {}
    id_of = {}
    if ids is not None:
        id_of = dict(zip(ids["_row"].to_pylist(), ids["complaint_id"].to_pylist(), strict=True))
    rows = []
    for rec in raw.to_pylist():
        n = rec.get("_row")
        before = prior_rows.get(n)
        rows.append(
            {
                "source_id": source_id,
                "day": day,
                "run_id": run_id,
                "row_number": n,
                "complaint_id": (before or {}).get("complaint_id") or id_of.get(n),
                "raw": json.dumps({k: v for k, v in rec.items() if k != "_row"}, default=str),
                "reasons": [*(before["reasons"] if before else []), reason],
            }
        )
    return pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA)


def _public(run: dict) -> dict:
    """The run row as plain JSON-able values (it travels through XCom)."""
    out = {}
    for k, v in run.items():
        if isinstance(v, datetime | date):
            v = v.isoformat()
        out[k] = v
    return {
        k: out.get(k)
        for k in (
            "run_id",
            "source_id",
            "day",
            "status",
            "rows_read",
            "rows_loaded",
            "rows_quarantined",
            "duration_s",
            "error",
        )
    }
