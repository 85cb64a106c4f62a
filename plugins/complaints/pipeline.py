"""One source's day: extract -> pseudonymise -> map -> audit -> publish (write-audit-publish).

`ingest_source` is the function the daily DAG maps over the registry; the day-level stages that
follow it live in `complaints.daily`. Neither needs Airflow; XCom carries only small dicts.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, date, datetime
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
import pyarrow as pa

from complaints import canonical
from complaints.config import Settings

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


#: columns a connector adds to a source's own: the file's name, cells past the header
CONNECTOR_COLUMNS = ("_file", "_extra")


def _check_column_names(source_id: str, batch: pa.Table, mapped: set[str]) -> None:
    """A source's batch must not repeat a column name or bring the pipeline's own ``_row``: the
    file connector adds ``_file`` and ``_extra`` (cells past the header), so a source column of
    either name repeats. And it must have one of the columns the mapping names: a file without
    its header row has its first row's values as column names (a NIK, a name, a date), which
    would be kept as JSON keys with every quarantined row."""
    from complaints.connectors import SourceError

    names = batch.schema.names
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SourceError(
            source_id,
            f"column names repeat: {', '.join(map(repr, repeated))} (the file connector adds "
            "'_file' and '_extra'); rename the column in the source's export",
        )
    if "_row" in names:
        raise SourceError(
            source_id,
            "a column named '_row' is the pipeline's own row number; rename it in the source's "
            "export",
        )
    own = [n for n in names if n not in CONNECTOR_COLUMNS]
    if own and not mapped.intersection(own):
        where = f"file {batch['_file'][0]}: " if "_file" in names and batch.num_rows else ""
        raise SourceError(
            source_id,
            f"{where}none of the {len(own)} columns is one the mapping names (such as "
            f"{', '.join(map(repr, sorted(mapped)[:3]))}): is the header row missing, or the "
            "delimiter wrong?",
        )


def _with_row_numbers(batch: pa.Table, offset: int) -> pa.Table:
    # from numpy: a Python range is converted value by value (0.38 s per 1,000,000 rows)
    rows = pa.array(np.arange(offset, offset + batch.num_rows, dtype=np.int64))
    return batch.append_column("_row", rows)


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
    from complaints.arrowpool import use_preferred_pool
    from complaints.connectors import SourceError, Window, open_connector
    from complaints.mapping import map_batch
    from complaints.privacy import RawText, install_log_redaction, load_key, pseudonymise
    from complaints.quality import data_docs_index
    from complaints.quality.audit import DayAudit
    from complaints.spill import Spill
    from complaints.streaming import SourceDay, in_order
    from complaints.warehouse import Warehouse

    install_log_redaction()  # idempotent: secrets and NIK/phone/e-mail shapes never reach logs
    use_preferred_pool()  # idempotent: jemalloc for the batches (complaints.arrowpool)
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
    new_audit = partial(
        DayAudit,
        source_id=source_id,
        day=day,
        run_id=run_id,
        as_of=as_of,
        known_regions=set(_known_regions()),
        known_institutions={s.id for s in registry.sources},
        recent_counts=warehouse.recent_row_counts(source_id, before=day),
        threshold=source.quarantine_threshold or settings.quarantine_threshold,
        gx_dir=settings.data_dir / "gx",
        required_columns={f: mapping.columns[f] for f in canonical.MAPPING_REQUIRED},
    )
    ids = {"source_id": source_id, "day": day, "run_id": run_id}
    for stale in Spill.sweep(settings.data_dir / "spill"):
        log.warning("removed the spill folder of an ingest that did not finish: %s", stale)
    with Spill(settings.data_dir / "spill" / run_id) as spill:
        stream = SourceDay(spill, new_audit, lambda raw: map_batch(raw, source, mapping), ids)

        def prepared(batch: pa.Table, first_row: int, same_schema: bool):
            raw = pseudonymise(_with_row_numbers(batch, first_row), mapping, key)
            # a batch with other columns than the first is mapped after conforming (finish)
            return raw, first_row, stream.map_batch(raw) if same_schema else None

        mapped_columns = {
            c for v in mapping.columns.values() for c in ([v] if isinstance(v, str) else v)
        }

        def jobs(batches):
            first_row, schema = 0, None
            for batch in batches:
                _check_column_names(source_id, batch, mapped_columns)
                schema = schema or batch.schema
                yield partial(prepared, batch, first_row, batch.schema.equals(schema))
                first_row += batch.num_rows

        read = 0
        try:
            connector = open_connector(source, settings)
            for raw, first_row, mapped in in_order(jobs(connector.read(window))):
                stream.add(raw, first_row, mapped)
                read += raw.num_rows
        except SourceError as exc:
            # rows read before the failure are kept in quarantine, so read = loaded + quarantined
            reason = f"source failed: {exc.message if hasattr(exc, 'message') else exc}"
            stream.quarantine_all(reason, own_reasons=False)
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
                quarantine=stream.quarantined_all() if read else None,
            )
            raise
        notes = list(getattr(connector, "notes", []) or [])
        # a day with no rows has no columns to miss (an empty or header-only file)
        result = stream.finish(read, check_required=bool(read))
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
            quarantined = stream.quarantine_all(
                f"day rejected: {result.batch_reason}", own_reasons=True
            )
            run_row = finish(
                "rejected",
                rows_loaded=0,
                rows_quarantined=quarantined,
                cursor_after=cursor_before,
                **{**summary, "error": "; ".join([result.batch_reason, *notes])},
            )
            warehouse.record_run(source_id, day, run_row, quarantine=stream.quarantined_all())
            log.warning("source %s day %s rejected: %s", source_id, day, result.batch_reason)
            return _public(run_row)

        cursor_after = max(filter(None, [cursor_before, connector.max_updated]), default=None)
        run_row = finish(
            "published",
            rows_loaded=result.rows_loaded,
            rows_quarantined=result.rows_quarantined,
            cursor_after=cursor_after,
            **summary,
        )
        if run_row["rows_read"] != run_row["rows_loaded"] + run_row["rows_quarantined"]:
            raise AssertionError(f"reconciliation broken for {source_id} {day}: {run_row}")
        published = warehouse.publish_source_day(
            source_id, day, run=run_row, raw_text=RawText.of(mapping), **stream.datasets()
        )
        if published["versions_text_withdrawn"] or published["quarantined_text_withdrawn"]:
            log.info(
                "source %s day %s: text withdrawn from %d version(s) and %d quarantined row(s) "
                "of complaints marked rahasia",
                source_id,
                day,
                published["versions_text_withdrawn"],
                published["quarantined_text_withdrawn"],
            )
    return _public(run_row)


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
