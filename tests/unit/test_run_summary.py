"""The run summary lines a data engineer reads in the ingest and summarize_day task logs."""

from __future__ import annotations

import logging

from complaints.orchestration.summary import format_summary, log_source_run

RUN = {
    "source_id": "kab-5102",
    "day": "2026-10-30",
    "status": "published",
    "rows_read": 1500,
    "rows_loaded": 1497,
    "rows_quarantined": 3,
    "error": None,
}


def test_a_source_run_is_one_line_with_its_reconciliation(caplog):
    with caplog.at_level(logging.INFO, logger="complaints.orchestration.summary"):
        text = log_source_run(RUN)
    assert text == "kab-5102 2026-10-30: published, read 1500 = loaded 1497 + quarantined 3"
    assert caplog.messages == [text]


def test_a_failed_run_says_why():
    failed = {**RUN, "status": "failed", "rows_loaded": 0, "rows_quarantined": 0,
              "error": "HTTP 500 after 4 attempts"}  # fmt: skip
    assert log_source_run(failed).endswith("quarantined 0; HTTP 500 after 4 attempts")


def test_the_day_summary_counts_statuses_and_lists_every_source():
    rows = [RUN, {**RUN, "source_id": "prov-31", "status": "rejected"}]
    lines = format_summary("2026-10-30", rows).splitlines()
    assert lines[0] == "complaints_daily 2026-10-30: 1 published, 1 rejected"
    assert lines[1].split(" | ")[0].strip() == "source_id"
    assert [line.split(" | ")[0].strip() for line in lines[3:]] == ["kab-5102", "prov-31"]
