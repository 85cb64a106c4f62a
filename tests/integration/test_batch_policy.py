"""The batch policy through the real ingest path: a day with more than 5% bad rows is refused
whole (every row to quarantine with its own reasons plus the day's), and the source's previously
published data and cursor stay exactly as they were."""

from __future__ import annotations

from datetime import timedelta

import pyarrow.parquet as pq
from bad_input_support import (
    AS_OF,
    DAY,
    PAD,
    SOURCE_ID,
    Lapor,
    csv_text,
    good_row,
    good_rows,
    pad,
    published,
    raw_of,
    reconcile,
)

REJECT_REASON = "quarantined 4 of 40 rows (10.0%), more than the threshold 5.0%"


def good_day_then_bad_day(lapor: Lapor):
    """Day 1: 40 good rows, published. Day 2: updates of 20 known complaints, 16 new ones and
    4 bad rows (10% > 5%). Returns (day 1 outcome, complaint_current after day 1, day 2)."""
    before = DAY - timedelta(days=1)
    lapor.drop_text("ekspor.csv", csv_text(good_rows(40, day=before)), before)
    first = published(lapor.ingest(before, AS_OF - timedelta(days=1)), read=40, loaded=40)
    current_before = lapor.query("select * from complaint_current order by complaint_id")
    assert len(current_before) == 40

    rows = [good_row(i, **{"Status": "SELESAI", "Nilai": "5"}) for i in range(1, 21)]
    rows += good_rows(16, start=41)
    rows += [good_row(9201 + n, **{"Nilai": v}) for n, v in enumerate(["0", "6", "lima", "1.000"])]
    lapor.drop_text("ekspor.csv", csv_text(rows))
    return first, current_before, lapor.ingest()


def test_more_than_five_percent_bad_rejects_the_day_and_keeps_the_previous_one(lapor):
    first, current_before, out = good_day_then_bad_day(lapor)
    reconcile(out)
    assert out.error is None
    assert out.run["status"] == "rejected"
    counts = (out.run["rows_read"], out.run["rows_loaded"], out.run["rows_quarantined"])
    assert counts == (40, 0, 40)
    assert out.run["error"] == REJECT_REASON
    assert out.history == 0
    # every row of the day is in quarantine, each ending with the day's reason
    assert [q["row_number"] for q in out.quarantine] == list(range(40))
    for q in out.quarantine:
        assert q["reasons"][-1] == f"day rejected: {REJECT_REASON}"
    assert out.reasons_of("LPR-09203") == [
        "rating 'lima' is not an integer 1-5",
        f"day rejected: {REJECT_REASON}",
    ]
    assert out.quarantine[0]["reasons"] == [f"day rejected: {REJECT_REASON}"]
    assert raw_of(out.quarantine[0])["Nomor Tiket"] == "LPR-00001"
    assert raw_of(out.quarantine[0])["Status"] == "SELESAI"

    # nothing of the rejected day is published: current is exactly what the good day left
    assert lapor.query("select * from complaint_current order by complaint_id") == current_before
    assert {r["status"] for r in current_before} == {"received"}
    assert lapor.count("complaint_history", DAY - timedelta(days=1)) == 40
    assert lapor.count("raw", DAY) == 0
    # and the cursor stays where the published day left it
    from complaints.warehouse import Warehouse

    assert Warehouse(lapor.settings).last_cursor(SOURCE_ID) == first.run["cursor_after"]


def test_rejected_day_quarantine_keeps_complaint_ids(lapor):
    _, _, out = good_day_then_bad_day(lapor)
    assert out.run["status"] == "rejected"
    assert out.reasons_of("LPR-00001") == [f"day rejected: {REJECT_REASON}"]


def test_quarantine_parquet_matches_the_run(lapor):
    """The quarantine partition on disk (not only the DuckDB view) holds the run's rows."""
    pad(lapor)
    lapor.drop_fixture("ratings.csv")
    out = published(lapor.ingest(), read=PAD + 4, loaded=PAD + 1)
    files = sorted((lapor.settings.data_dir / "warehouse").rglob("quarantine/**/*.parquet"))
    assert files
    table = pq.read_table(files[0])
    assert table.num_rows == out.run["rows_quarantined"] == 3
