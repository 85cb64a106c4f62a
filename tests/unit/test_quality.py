"""The data quality stage: row rules with exact reasons, reconciliation, batch policy, volume."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints import canonical
from complaints.quality import AuditResult, audit_batch
from complaints.quality.rowchecks import RowChecks
from complaints.quality.volume import check_volume, volume_band
from complaints.tables import QUARANTINE_SCHEMA

DAY = date(2024, 6, 10)
AS_OF = datetime(2024, 6, 11, 2, 0, tzinfo=UTC)
REGIONS = {"31", "32", "33.01"}
INSTITUTIONS = {"prov-31", "kemendagri"}


@pytest.fixture(autouse=True)
def _gx_mode(request, monkeypatch):
    """Real GX validation costs ~0.5 s per suite and batch; the row-rule tests here check the
    vectorised reasons, so they run in record mode (``gx_dir=None``: nothing stored, GX not even
    imported) unless they ask for ``with_gx``. test_quality_gx.py and test_quality_record.py
    check that GX agrees with these reasons and that record mode stores what GX would."""
    mode = "validate" if "with_gx" in request.fixturenames else "record"
    monkeypatch.setenv("COMPLAINTS_GX_MODE", mode)


@pytest.fixture
def with_gx():
    """Run the real GX validation (COMPLAINTS_GX_MODE=validate) in this test."""


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


def test_clean_batch_is_all_valid(with_gx):
    result = audit(*batch([good_record(i) for i in range(20)]))
    assert result.batch_ok and result.batch_reason is None
    assert result.valid.num_rows == 20 and result.quarantine.num_rows == 0
    assert result.valid.schema == canonical.schema()
    assert result.quarantine.schema == QUARANTINE_SCHEMA
    assert all(c["success"] for c in result.checks), [c for c in result.checks if not c["success"]]


def test_required_null_values():
    records = broken(6, {1: {"status": None}, 3: {"submitted_at": None, "channel": None}})
    result = audit(*batch(records))
    assert reasons_by_row(result) == {
        1: ["missing status"],
        3: ["missing channel", "missing submitted_at"],
    }


def test_vocabularies_and_reference_sets():
    records = broken(
        8,
        {
            0: {"status": "done"},
            2: {"classification": "keluhan", "channel": "fax"},
            4: {"region_code": "99"},
            5: {"institution_id": "unknown-inst"},
            6: {"timezone": "Asia/Tokyo"},
        },
    )
    result = audit(*batch(records))
    assert reasons_by_row(result) == {
        0: ["status not in canonical set"],
        2: ["classification not in canonical set", "channel not in canonical set"],
        4: ["unknown region_code"],
        5: ["unknown institution_id"],
        6: ["timezone not in canonical set"],
    }


def test_ratings_zero_six_and_null():
    records = broken(6, {0: {"rating": 0}, 1: {"rating": 6}, 2: {"rating": None}, 3: {"rating": 1}})
    records[4]["rating"] = 5
    result = audit(*batch(records))
    assert reasons_by_row(result) == {
        0: ["rating out of range 1-5"],
        1: ["rating out of range 1-5"],
    }
    assert result.valid.num_rows == 4  # null (unrated), 1 and 5 pass


def test_order_violations_wherever_present():
    records = broken(
        6,
        {
            0: {"verified_at": ts(1, 7)},  # an hour before submission
            # forwarded before submission with verification missing in between
            1: {"verified_at": None, "forwarded_at": ts(1, 6)},
            2: {"closed_at": ts(4, 12)},  # closed after first response but before follow-up
            3: {"verified_at": ts(1, 8)},  # equal timestamps are in order
        },
    )
    result = audit(*batch(records))
    assert reasons_by_row(result) == {
        0: ["verified_at before submitted_at"],
        1: ["forwarded_at before submitted_at"],
        2: ["closed_at before followed_up_at"],
    }


def test_future_timestamps_with_tolerance():
    records = broken(
        5,
        {
            0: {"updated_at": AS_OF + timedelta(minutes=6)},
            1: {"updated_at": AS_OF + timedelta(minutes=4)},  # clock skew within tolerance
            2: {"closed_at": datetime(2030, 1, 1, tzinfo=UTC), "status": "closed"},
        },
    )
    result = audit(*batch(records))
    assert reasons_by_row(result) == {
        0: ["updated_at after as_of"],
        2: ["closed_at after as_of"],
    }


def test_implausibly_old_update():
    records = broken(
        4,
        {
            0: {"updated_at": datetime(2024, 6, 2, 23, 59, tzinfo=UTC)},  # before day - 7 days
            1: {"updated_at": datetime(2024, 6, 3, 0, 0, tzinfo=UTC)},  # exactly day - 7 days
            2: {"submitted_at": datetime(2019, 1, 1, tzinfo=UTC)},  # old complaints are fine
        },
    )
    result = audit(*batch(records))
    assert reasons_by_row(result) == {0: ["updated_at older than the export window"]}


def test_duplicates_and_versions(with_gx):
    records = [good_record(i) for i in range(5)]
    records.append(dict(records[1]))  # exact copy of row 1
    records.append(dict(records[1]))  # and another
    later = dict(records[2], updated_at=records[2]["updated_at"] + timedelta(hours=1))
    records.append(later)  # a later version of complaint 2: legitimate
    records.append(dict(records[3], status="closed", closed_at=ts(9)))  # same key, new content
    result = audit(*batch(records))
    assert reasons_by_row(result) == {
        3: ["conflicting versions of complaint_id and updated_at"],
        5: ["duplicate row"],
        6: ["duplicate row"],
        8: ["conflicting versions of complaint_id and updated_at"],
    }
    ids = result.valid["complaint_id"].to_pylist()
    assert ids.count("LAP-000001") == 1 and ids.count("LAP-000002") == 2
    keys = next(c for c in result.checks if c["suite"] == "complaints_keys")
    assert keys["unexpected_count"] == 5  # GX counts every row of a non-unique key


def test_all_reasons_merged_with_mapping_rejects_and_raw_values():
    records = broken(5, {2: {"rating": 9, "region_code": "00"}})
    rows, _, raw = batch(records, lost=0)
    # row 5 and 6 were rejected by the mapping and never reached the canonical rows
    raw = pa.table(
        {
            "_row": pa.array(range(7), pa.int64()),
            "tracking_id": [f"LAP-{i:06d}" for i in range(7)],
            "rating": ["4", "4", "9", "4", "4", "bintang", ""],
        }
    )
    rejects = pa.table(
        {
            "_row": pa.array([6, 5], pa.int64()),
            "complaint_id": ["LAP-000006", "LAP-000005"],
            "reasons": pa.array(
                [["submitted_at unparseable: ''"], ["rating not a number", "status unknown"]],
                pa.list_(pa.string()),
            ),
        }
    )
    result = audit(rows, rejects, raw, rows_read=7)
    q = result.quarantine.to_pylist()
    assert [r["row_number"] for r in q] == [2, 5, 6]
    assert q[0]["reasons"] == ["rating out of range 1-5", "unknown region_code"]
    assert q[1]["reasons"] == ["rating not a number", "status unknown"]
    assert q[2]["reasons"] == ["submitted_at unparseable: ''"]
    assert [r["complaint_id"] for r in q] == ["LAP-000002", "LAP-000005", "LAP-000006"]
    assert q[1]["raw"] == '{"tracking_id": "LAP-000005", "rating": "bintang"}'
    assert {r["source_id"] for r in q} == {"prov-31"} and {r["day"] for r in q} == {DAY}
    assert {r["run_id"] for r in q} == {"run-1"}
    assert result.valid.num_rows + result.quarantine.num_rows == 7


def test_reconciliation_on_a_thoroughly_broken_batch():
    changes = {
        i: change
        for i, change in enumerate(
            [
                {"status": "bogus"},
                {"rating": 0, "verified_at": ts(1, 1)},
                {"complaint_id": None},
                {"updated_at": AS_OF + timedelta(days=2)},
                {"region_code": None, "institution_id": "nope"},
            ]
            * 4
        )
    }
    records = broken(60, changes)
    records += [dict(records[30]), dict(records[31])]
    rows, rejects, raw = batch(records, lost=3)
    result = audit(rows, rejects, raw)
    assert result.rows_read == 65
    assert result.valid.num_rows + result.quarantine.num_rows == 65
    assert result.valid.num_rows == 40
    assert result.quarantine["row_number"].to_pylist() == sorted(
        set(range(20)) | {60, 61, 62, 63, 64}
    )
    lost = reasons_by_row(result)
    assert lost[62] == lost[63] == lost[64] == ["row read but missing after mapping"]
    assert lost[60] == lost[61] == ["duplicate row"]
    assert all(result.quarantine["reasons"].to_pylist())  # never an empty reason list


def test_identity_is_enforced():
    from complaints.quality import ReconciliationError

    rows, rejects, raw = batch([good_record(i) for i in range(3)])
    with pytest.raises(ReconciliationError, match="rows_read 4 != valid 3"):
        audit(rows, rejects, raw, rows_read=4)


def test_batch_policy_default_five_percent():
    ok = audit(*batch(broken(100, {i: {"rating": 7} for i in range(5)})))
    assert ok.batch_ok and ok.quarantine.num_rows == 5
    bad = audit(*batch(broken(100, {i: {"rating": 7} for i in range(6)})))
    assert not bad.batch_ok
    assert bad.batch_reason == "quarantined 6 of 100 rows (6.0%), more than the threshold 5.0%"
    # the valid rows are still returned: the publisher decides what a failed day means
    assert bad.valid.num_rows == 94


def test_batch_policy_per_source_threshold():
    records = broken(100, {i: {"rating": 7} for i in range(6)})
    assert audit(*batch(records), threshold=0.10).batch_ok
    assert not audit(*batch(records), threshold=0.01).batch_ok


def test_missing_required_column_in_raw_fails_the_batch():
    rows, rejects, raw = batch([good_record(i) for i in range(4)])
    result = audit(
        rows,
        rejects,
        raw,
        required_columns={"complaint_id": "tracking_id", "submitted_at": ["created_at", "tgl"]},
    )
    assert not result.batch_ok
    assert (
        result.batch_reason == "required column missing in raw: created_at | tgl (for submitted_at)"
    )


def test_missing_required_canonical_column_fails_the_batch_and_quarantines(with_gx):
    rows, rejects, raw = batch([good_record(i) for i in range(4)])
    result = audit(rows.drop_columns(["channel"]), rejects, raw, threshold=1.0)
    assert not result.batch_ok
    assert "required column missing: channel" in result.batch_reason
    assert reasons_by_row(result) == {i: ["missing channel"] for i in range(4)}
    exists = [c for c in result.checks if c["name"] == "expect_column_to_exist(channel)"]
    assert exists and not exists[0]["success"]


def test_empty_batch():
    rows, rejects, raw = batch([])
    result = audit(rows, rejects, raw)
    assert result.batch_ok and result.valid.num_rows == 0 and result.quarantine.num_rows == 0


# volume ------------------------------------------------------------------------------------


def test_volume_band_needs_history():
    assert volume_band([100] * 6) is None
    assert volume_band([100] * 7) == (10.0, 1000.0)
    assert volume_band([100] * 7, factor=4) == (25.0, 400.0)


@pytest.mark.parametrize(
    ("rows_read", "history", "ok"),
    [
        (0, [100, 95, 110, 90, 105, 100, 98], False),
        (2000, [100, 95, 110, 90, 105, 100, 98], False),
        (100, [100, 95, 110, 90, 105, 100, 98], True),
        (0, [], True),
        (5000, [100] * 3, True),
    ],
)
def test_check_volume(rows_read, history, ok):
    flagged_ok, reason, _ = check_volume(rows_read, history)
    assert flagged_ok is ok
    assert (reason is None) is ok
    if not ok:
        assert reason.startswith("volume ")


def test_volume_flags_the_batch(with_gx):
    history = [100, 95, 110, 90, 105, 100, 98, 102]
    rows, rejects, raw = batch([])
    empty = audit(rows, rejects, raw, recent_counts=history)
    assert not empty.batch_ok and empty.batch_reason.startswith("volume 0 rows outside")
    records = [good_record(i) for i in range(2000)]
    flood = audit(*batch(records), recent_counts=history)
    assert not flood.batch_ok and flood.batch_reason.startswith("volume 2000 rows")
    check = next(c for c in flood.checks if c["suite"] == "complaints_volume")
    assert not check["success"]
    assert audit(*batch(records), recent_counts=history, volume_factor=25).batch_ok
    assert audit(*batch(records), recent_counts=[]).batch_ok


def test_batch_policy_needs_a_minimum_of_bad_rows_on_a_small_day():
    """2 bad rows of 16 (12.5%) is noise on a small regency's day; 3 of 16 is not."""
    two = audit(*batch(broken(16, {i: {"rating": 7} for i in range(2)})))
    assert two.batch_ok and two.quarantine.num_rows == 2
    three = audit(*batch(broken(16, {i: {"rating": 7} for i in range(3)})))
    assert not three.batch_ok
    assert three.batch_reason.startswith("quarantined 3 of 16 rows (18.8%)")
    assert audit(*batch(broken(16, {0: {"rating": 7}})), min_bad_rows=1).batch_ok is False


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=7, max_size=7), max_size=5))
def test_reason_pairs_list_every_failure_by_row_then_reason(masks):
    """(row, reason) for every true cell of every reason's mask, rows ascending and a row's
    reasons in the order they were added (the quarantine's reason lists keep that order)."""
    checks = RowChecks(num_rows=7)
    for i, mask in enumerate(masks):
        checks.add(f"reason_{i}", np.array(mask, dtype=bool))
    rows, reasons = checks.reason_pairs()
    expected = [(r, f"reason_{i}") for r in range(7) for i, m in enumerate(masks) if m[r]]
    assert list(zip(rows.tolist(), reasons.tolist(), strict=True)) == expected
    assert rows.dtype == np.int64
