"""GX record mode: results built from the vectorised checks, stored where GX stores its own."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from test_quality import AS_OF, audit, batch, good_record
from test_quality_gx import broken_batch

from complaints.quality import build_data_docs, data_docs_index, gx_mode
from complaints.quality.suites import ROW_SUITES, SUITE_NAMES, load_suite_spec

NEEDLES = ("SECRET-TITLE-7731", "SECRET-BODY-7731", "SECRETKEY7731")


def _stored(gx_dir, suite: str, run: str) -> dict:
    [path] = (gx_dir / "gx" / "uncommitted" / "validations" / suite / run).rglob("*.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _very_broken():
    """broken_batch plus a wrongly typed column and a missing one: every kind of failure."""
    rows, rejects, raw = broken_batch()
    rating = rows["rating"].cast(pa.int64())
    rows = rows.set_column(rows.column_names.index("rating"), "rating", rating)
    return rows.drop_columns(["category"]), rejects, raw


def _key(check: dict) -> tuple:
    return check["name"], check["suite"], check["success"], check["unexpected_count"]


def test_mode_setting(monkeypatch):
    monkeypatch.delenv("COMPLAINTS_GX_MODE", raising=False)
    assert gx_mode() == "record"
    monkeypatch.setenv("COMPLAINTS_GX_MODE", "Validate")
    assert gx_mode() == "validate"
    monkeypatch.setenv("COMPLAINTS_GX_MODE", "sample")
    with pytest.raises(ValueError, match="COMPLAINTS_GX_MODE"):
        gx_mode()
    with pytest.raises(ValueError, match="gx_mode"):
        audit(*batch([good_record(0)]), gx_mode="fast")


def test_record_and_validate_give_the_same_checks_on_a_broken_batch(tmp_path):
    history = [40] * 7
    recorded = audit(
        *_very_broken(), gx_dir=tmp_path / "r", recent_counts=history, gx_mode="record"
    )
    validated = audit(*_very_broken(), recent_counts=history, gx_mode="validate")
    assert [_key(c) for c in recorded.checks] == [_key(c) for c in validated.checks]
    for rec, val in zip(recorded.checks, validated.checks, strict=True):
        assert set(rec) == set(val) and set(rec["details"]) == set(val["details"]), rec["name"]
        json.dumps(rec)
    by_name = {c["name"]: c for c in recorded.checks}
    assert not by_name["expect_column_to_exist(category)"]["success"]
    assert "exception" in by_name["expect_column_values_to_be_of_type(category)"]["details"]
    assert by_name["expect_column_values_to_be_of_type(rating)"]["details"]["observed_value"] != (
        "int8"
    )
    assert by_name["expect_column_values_to_be_between(rating)"]["unexpected_count"] == 2
    assert (
        by_name["expect_compound_columns_to_be_unique(complaint_id,updated_at)"]["unexpected_count"]
        == 4
    )
    assert recorded.quarantine.equals(validated.quarantine)
    assert recorded.batch_reason == validated.batch_reason


def test_record_mode_stores_every_expectation_of_every_suite(tmp_path):
    gx_dir = tmp_path / "gx"
    result = audit(*broken_batch(), gx_dir=gx_dir, recent_counts=[40] * 7)  # default: record
    run = "prov-31_2024-06-10_run-1"
    checks = {c["details"]["rule"]: c for c in result.checks if c["suite"] in SUITE_NAMES}
    for suite in SUITE_NAMES:
        stored = _stored(gx_dir, suite, run)
        spec = load_suite_spec(suite)["expectations"]
        assert stored["suite_name"] == suite
        assert [r["expectation_config"]["meta"]["rule"] for r in stored["results"]] == [
            e["meta"]["rule"] for e in spec
        ]
        assert stored["meta"]["run_id"]["run_name"] == run
        assert stored["meta"]["complaints"]["gx_mode"] == "record"
        identifiers = stored["meta"]["active_batch_definition"]["batch_identifiers"]
        assert identifiers["source_id"] == "prov-31" and identifiers["day"] == "2024-06-10"
        assert stored["statistics"]["evaluated_expectations"] == len(spec)
        assert stored["success"] is all(r["success"] for r in stored["results"])
        for res in stored["results"]:
            rule = res["expectation_config"]["meta"]["rule"]
            assert res["success"] is checks[rule]["success"], rule
            assert res["result"].get("unexpected_count") == checks[rule]["unexpected_count"]
            assert res["expectation_config"]["id"]  # the suite's own expectation
            assert len(res["result"].get("partial_unexpected_list", [])) <= 20
    status = _stored(gx_dir, "complaints_values", run)["results"][0]
    assert status["result"]["partial_unexpected_list"] == ["done"]
    assert status["result"]["element_count"] == 42
    assert status["expectation_config"]["kwargs"]["value_set"][0] == "received"  # $PARAMETER
    late = _stored(gx_dir, "complaints_time", run)["results"][0]
    assert late["expectation_config"]["kwargs"]["max_value"] == "2024-06-11T02:05:00+00:00"


def test_record_mode_results_render_in_data_docs(tmp_path):
    gx_dir = tmp_path / "gx"
    index = data_docs_index(gx_dir)
    audit(*broken_batch(), gx_dir=gx_dir, recent_counts=[40] * 7)
    audit(*batch([good_record(i) for i in range(3)]), gx_dir=gx_dir, source_id="kab-3301")
    assert not index.exists()  # recording never builds Data Docs
    assert build_data_docs(gx_dir) == index and index.is_file()
    html = index.read_text(encoding="utf-8")
    for suite in SUITE_NAMES:
        assert suite in html
    assert "prov-31_2024-06-10_run-1" in html and "kab-3301_2024-06-10_run-1" in html
    pages = index.parent / "validations"
    for suite in ROW_SUITES:
        assert len(list((pages / suite).rglob("*.html"))) == 2, suite  # one per source-day
    [page] = (pages / "complaints_values" / "prov-31_2024-06-10_run-1").rglob("*.html")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))
    assert "values must belong to this set" in text
    assert "values must be greater than or equal to 1 and less than or equal to 5" in text
    assert "2 unexpected values found" in text and "1 unexpected values found" in text
    for column in ("status", "rating", "region_code", "institution_id"):
        assert f" {column} " in text
    assert "Unsuccessful Expectations 6" in text


def test_no_personal_data_in_stored_results(tmp_path):
    title, body, key = NEEDLES
    records = [
        dict(good_record(i), title=f"{title} {i}", body=f"{body} {i}", reporter_key=f"{key}{i}")
        for i in range(30)
    ]
    records[0].update(status="done", title=None)  # a failing row with personal fields
    records[1].update(updated_at=AS_OF + timedelta(days=2), reporter_key=None, body=None)
    records.append(dict(records[5], title=f"{title} changed"))  # conflicting versions
    records.append(dict(records[6]))  # exact copy
    gx_dir = tmp_path / "gx"
    result = audit(*batch(records), gx_dir=gx_dir, threshold=1.0)
    assert result.quarantine.num_rows == 5
    build_data_docs(gx_dir)
    written = [p for p in (gx_dir / "gx").rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" and "validations" in p.parts for p in written)
    for path in written:
        content = path.read_bytes().decode("utf-8", errors="replace")
        for needle in NEEDLES:
            assert needle not in content, (needle, path)
    keys = _stored(gx_dir, "complaints_keys", "prov-31_2024-06-10_run-1")["results"][0]
    assert {"complaint_id", "updated_at"} == set(keys["result"]["partial_unexpected_list"][0])


def test_record_mode_without_gx_dir_never_imports_great_expectations():
    code = (
        "import sys; sys.path.insert(0, 'tests/unit')\n"
        "from test_quality import audit, batch, good_record\n"
        "r = audit(*batch([good_record(i) for i in range(5)]), gx_mode='record')\n"
        "assert r.checks and r.batch_ok\n"
        "print('great_expectations' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout
    assert out.strip() == "False"


def _with_missing(rows: pa.Table) -> pa.Table:
    """Missing values where "either" and "all" differ: row 0 without complaint_id and
    updated_at, row 1 without updated_at only (the compound key); row 2 verified but without
    submitted_at (the pairs)."""
    changes = {
        "complaint_id": {0: None},
        "updated_at": {0: None, 1: None},
        "submitted_at": {2: None},
        "verified_at": {2: AS_OF},
    }
    for name, values in changes.items():
        col = rows[name].combine_chunks()
        new = [values.get(i, v) for i, v in enumerate(col.to_pylist())]
        rows = rows.set_column(rows.column_names.index(name), name, pa.array(new, col.type))
    return rows


def test_recorded_counts_equal_gx_validating_the_same_batch(tmp_path):
    """Every count and percentage of a recorded result, missing values included (a column, a
    pair with either value missing, a compound key with all missing), is what GX itself stores
    for the same expectation."""
    rows, rejects, raw = _very_broken()
    rows = _with_missing(rows)
    for mode in ("record", "validate"):
        audit(rows, rejects, raw, gx_dir=tmp_path / mode, recent_counts=[40] * 7, gx_mode=mode)
    run = "prov-31_2024-06-10_run-1"
    counts = ("element_count", "missing_count", "unexpected_count")
    percents = ("missing_percent", "unexpected_percent", "unexpected_percent_nonmissing")
    keys = (*counts, *percents, "unexpected_percent_total")

    def by_expectation(results: list) -> dict:
        out = {}
        for res in results:
            config = res["expectation_config"]
            kwargs = {k: v for k, v in config["kwargs"].items() if k != "batch_id"}
            out[config["type"], json.dumps(kwargs, sort_keys=True, default=str)] = res["result"]
        return out

    compared, missing = 0, {}
    for suite in SUITE_NAMES:
        gx_own = by_expectation(_stored(tmp_path / "validate", suite, run)["results"])
        recorded = by_expectation(_stored(tmp_path / "record", suite, run)["results"])
        for key, result in recorded.items():
            if key not in gx_own:  # the rating bounds: GX sees them as the int64 column's
                continue
            assert {k: result.get(k) for k in keys} == {k: gx_own[key].get(k) for k in keys}, key
            compared += 1
            if result.get("missing_count"):
                missing[key[0]] = result["missing_count"]
    assert compared >= 80
    assert set(missing) >= {
        "expect_column_values_to_be_in_set",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_compound_columns_to_be_unique",
    }, missing
