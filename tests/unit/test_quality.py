"""The data quality stage: row rules with exact reasons, reconciliation, batch policy, volume."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from complaints import canonical
from complaints.quality import AuditResult, audit_batch
from complaints.quality.volume import check_volume, volume_band
from complaints.tables import QUARANTINE_SCHEMA

DAY = date(2024, 6, 10)
AS_OF = datetime(2024, 6, 11, 2, 0, tzinfo=UTC)
REGIONS = {"31", "32", "33.01"}
INSTITUTIONS = {"prov-31", "kemendagri"}


def ts(day: int, hour: int = 8) -> datetime:
    return datetime(2024, 6, day, hour, tzinfo=UTC)


def good_record(i: int) -> dict:
    return {
        "complaint_id": f"LAP-{i:06d}",
        "source_id": "prov-31",
        "institution_id": "prov-31",
        "region_code": "31",
        "timezone": "Asia/Jakarta",
        "classification": "pengaduan",
        "berkadar_pengawasan": False,
        "category": "kependudukan",
        "channel": "web",
        "is_rahasia": False,
        "is_anonim": False,
        "title": "KTP belum jadi",
        "body": "sudah tiga bulan",
        "status": "followed_up",
        "rating": 4,
        "reporter_key": "k" * 8,
        "submitted_at": ts(1),
        "verified_at": ts(2),
        "forwarded_at": ts(3),
        "first_response_at": ts(4),
        "followed_up_at": ts(5),
        "closed_at": None,
        "updated_at": ts(10, 5) + timedelta(seconds=i),
    }


def batch(records: list[dict], lost: int = 0) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(rows, rejects, raw) for mapped records; `lost` extra raw rows that nobody mapped."""
    rows = pa.Table.from_pylist(records, schema=canonical.schema())
    rows = rows.append_column("_row", pa.array(range(len(records)), pa.int64()))
    raw = pa.table(
        {
            "_row": pa.array(range(len(records) + lost), pa.int64()),
            "tracking_id": [r["complaint_id"] for r in records] + [f"X{i}" for i in range(lost)],
            "status": [str(r["status"]).upper() for r in records] + ["?"] * lost,
        }
    )
    return rows, empty_rejects(), raw


def empty_rejects() -> pa.Table:
    return pa.table(
        {
            "_row": pa.array([], pa.int64()),
            "complaint_id": pa.array([], pa.string()),
            "reasons": pa.array([], pa.list_(pa.string())),
        }
    )


def audit(rows, rejects, raw, **kw) -> AuditResult:
    args = dict(
        source_id="prov-31",
        day=DAY,
        run_id="run-1",
        as_of=AS_OF,
        known_regions=REGIONS,
        known_institutions=INSTITUTIONS,
        recent_counts=[],
        rows_read=raw.num_rows,
        gx_dir=None,
    )
    args.update(kw)
    return audit_batch(rows, rejects, raw, **args)


def reasons_by_row(result: AuditResult) -> dict[int, list[str]]:
    q = result.quarantine.to_pydict()
    return dict(zip(q["row_number"], q["reasons"], strict=True))


def broken(n: int, changes: dict[int, dict]) -> list[dict]:
    records = [good_record(i) for i in range(n)]
    for i, change in changes.items():
        records[i].update(change)
    return records


def test_clean_batch_is_all_valid():
    result = audit(*batch([good_record(i) for i in range(20)]))
    assert result.batch_ok and result.batch_reason is None
    assert result.valid.num_rows == 20 and result.quarantine.num_rows == 0
    assert result.valid.schema == canonical.schema()
    assert result.quarantine.schema == QUARANTINE_SCHEMA
    assert all(c["success"] for c in result.checks), [c for c in result.checks if not c["success"]]
