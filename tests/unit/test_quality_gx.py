"""GX side of the quality stage: suite files, agreement with the row checks, Data Docs, no
network."""

from __future__ import annotations

import json
import multiprocessing
import socket
from collections import Counter
from datetime import timedelta
from itertools import combinations

import pytest
from test_quality import AS_OF, audit, batch, broken, good_record, ts  # noqa: F401

from complaints import canonical
from complaints.quality import build_data_docs
from complaints.quality.rowchecks import CONFLICTING_VERSIONS, DUPLICATE_ROW
from complaints.quality.suites import SUITE_NAMES, load_suite, load_suite_spec


def test_suite_files_load_into_gx_and_cover_the_canonical_record():
    for name in SUITE_NAMES:
        suite = load_suite(name)
        assert suite.name == name and suite.expectations
        assert suite.meta["version"] >= 1
    schema = load_suite_spec("complaints_schema")["expectations"]
    by_type = Counter(e["type"] for e in schema)
    assert by_type["expect_column_to_exist"] == len(canonical.FIELDS)
    assert by_type["expect_column_values_to_be_of_type"] == len(canonical.FIELDS)
    not_null = {e["kwargs"]["column"] for e in schema if "not_be_null" in e["type"]}
    assert not_null == set(canonical.REQUIRED_FIELDS)
    pairs = {
        (e["kwargs"]["column_B"], e["kwargs"]["column_A"])
        for e in load_suite_spec("complaints_order")["expectations"]
    }
    assert pairs == set(combinations(canonical.MILESTONES, 2))
    time_meta = load_suite_spec("complaints_time")["meta"]
    assert time_meta["max_age_days"] == 7 and "rationale" in time_meta
    rules = [e["meta"]["rule"] for n in SUITE_NAMES for e in load_suite_spec(n)["expectations"]]
    assert len(rules) == len(set(rules))  # a rule names one expectation


def broken_batch():
    records = broken(
        40,
        {
            0: {"status": "done", "rating": 0},
            1: {"rating": 6, "region_code": "99"},
            2: {"verified_at": ts(1, 1), "closed_at": ts(2, 1)},
            3: {"updated_at": AS_OF + timedelta(hours=1)},
            4: {"updated_at": AS_OF - timedelta(days=30), "institution_id": "x"},
            5: {"channel": None, "timezone": "UTC"},
            6: {"classification": "keluhan", "rating": None},
            7: {"submitted_at": AS_OF + timedelta(days=1)},
        },
    )
    records += [dict(records[10]), dict(records[11], title="other title")]
    return batch(records)


def test_gx_results_agree_with_the_row_checks(tmp_path):
    result = audit(*broken_batch(), gx_dir=tmp_path / "gx", gx_mode="validate")
    reason_counts = Counter(r for rs in result.quarantine["reasons"].to_pylist() for r in rs)
    gx_row_checks = [c for c in result.checks if "row_check_count" in c["details"]]
    # every row-level expectation is compared: not-null, values, order pairs, time, key
    assert len(gx_row_checks) == len(canonical.REQUIRED_FIELDS) + 7 + 15 + 8 + 1
    for check in gx_row_checks:
        rule = check["details"]["rule"]
        assert check["unexpected_count"] == check["details"]["row_check_count"], check
        if rule == "key not unique":
            assert reason_counts[DUPLICATE_ROW] == 1 and reason_counts[CONFLICTING_VERSIONS] == 2
            assert check["unexpected_count"] == 4  # both copies of row 10, both versions of 11
        else:
            assert check["unexpected_count"] == reason_counts[rule], rule
        assert check["success"] is (check["unexpected_count"] == 0)
    agreement = next(c for c in result.checks if c["name"] == "gx_agrees_with_row_checks")
    assert agreement["success"] and agreement["details"]["mismatches"] == []
    failed = {
        c["details"]["rule"]
        for c in result.checks
        if c["suite"].startswith("complaints") and not c["success"]
    }
    assert failed == {
        "status not in canonical set",
        "rating out of range 1-5",
        "unknown region_code",
        "verified_at before submitted_at",
        "closed_at before followed_up_at",
        "closed_at before first_response_at",
        "closed_at before forwarded_at",
        "updated_at after as_of",
        "updated_at older than the export window",
        "unknown institution_id",
        "missing channel",
        "timezone not in canonical set",
        "classification not in canonical set",
        "submitted_at after as_of",
        "key not unique",
        "forwarded_at before submitted_at",
        "first_response_at before submitted_at",
        "followed_up_at before submitted_at",
    }
    for check in result.checks:
        assert set(check) == {"name", "suite", "success", "unexpected_count", "details"}
        json.dumps(check)  # checks go into ingest_runs.check_results as JSON


@pytest.mark.parametrize("mode", ["record", "validate"])
def test_data_docs_show_each_suite_per_source_and_day(tmp_path, mode):
    gx_dir = tmp_path / "gx"
    audit(*broken_batch(), gx_dir=gx_dir, recent_counts=[40] * 7, gx_mode=mode)
    audit(
        *batch([good_record(i) for i in range(3)]),
        gx_dir=gx_dir,
        source_id="kab-3301",
        run_id="run-2",
        gx_mode=mode,
    )
    index = build_data_docs(gx_dir)
    assert index.name == "index.html" and index.is_file()
    html = index.read_text(encoding="utf-8")
    for name in SUITE_NAMES:
        assert name in html
    assert "prov-31_2024-06-10_run-1" in html and "kab-3301_2024-06-10_run-2" in html
    stored = list((gx_dir / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert len(stored) == 6 + 5  # volume ran only where there was history


def test_gx_never_touches_the_network(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    gx_dir = tmp_path / "fresh"  # a new project: context creation runs too
    audit(*batch([good_record(i) for i in range(3)]), gx_dir=gx_dir)
    assert build_data_docs(gx_dir).is_file()
    config = (gx_dir / "gx" / "great_expectations.yml").read_text()
    assert "analytics_enabled: false" in config


def _audit_in_child(args):
    gx_dir, source = args
    result = audit(*batch([good_record(i) for i in range(5)]), gx_dir=gx_dir, source_id=source)
    return result.valid.num_rows


def test_several_processes_share_one_gx_dir(tmp_path):
    gx_dir = tmp_path / "gx"
    sources = [f"kab-{i}" for i in range(4)]
    # spawn, not fork: forking a process that already runs threads (DuckDB, Airflow) can deadlock
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert pool.map(_audit_in_child, [(gx_dir, s) for s in sources]) == [5] * 4
    html = build_data_docs(gx_dir).read_text(encoding="utf-8")
    for source in sources:
        assert f"{source}_2024-06-10_run-1" in html


@pytest.mark.parametrize("result_format", ["BASIC", "SUMMARY"])
def test_result_formats_give_unexpected_counts(result_format):
    result = audit(*broken_batch(), result_format=result_format, gx_mode="validate")
    ratings = next(
        c for c in result.checks if c["name"] == "expect_column_values_to_be_between(rating)"
    )
    assert ratings["unexpected_count"] == 2
