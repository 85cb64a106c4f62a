"""Record mode writes GX's result files itself: same path and bytes as GX's store, no GX import."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

from test_quality import audit, batch, good_record
from test_quality_record import _very_broken

from complaints.config import INCLUDE_DIR
from complaints.quality import build_data_docs, gx_runner, gx_store
from complaints.quality.suites import ROW_SUITES, SUITE_NAMES, load_suite_spec

ROOT = Path(__file__).resolve().parents[2]


def _gx_object(doc: dict, gx_):
    """The result GX's own classes hold for ``doc``, with the project's ids (not the doc's)."""
    from great_expectations import __version__
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    definition = gx_.definitions[doc["suite_name"]]
    results = []
    for res, expectation in zip(doc["results"], definition.suite.expectations, strict=True):
        config = res["expectation_config"]
        configuration = ExpectationConfiguration(
            type=config["type"], kwargs=config["kwargs"], meta=config["meta"], id=expectation.id
        )
        results.append(
            ExpectationValidationResult(
                success=res["success"],
                expectation_config=configuration,
                result=res["result"],
                exception_info=res["exception_info"],
            )
        )
    meta = doc["meta"]
    now = datetime.fromisoformat(meta["run_id"]["run_time"])
    run_id = RunIdentifier(run_name=meta["run_id"]["run_name"], run_time=now)
    passed = sum(r.success for r in results)
    gx_meta = dict(
        meta,
        great_expectations_version=__version__,
        validation_id=definition.id,
        run_id=run_id,
        validation_time=now,
    )
    result = ExpectationSuiteValidationResult(
        success=passed == len(results),
        results=results,
        suite_name=doc["suite_name"],
        suite_parameters={},
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100.0 * passed / len(results),
        },
        meta=gx_meta,
    )
    return result, run_id


def test_stored_files_are_what_gxs_own_store_writes(tmp_path):
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    gx_dir = tmp_path / "gx"
    audit(*_very_broken(), gx_dir=gx_dir, recent_counts=[40] * 7)  # every kind of failure
    gx_ = gx_runner.get_gx(gx_dir)
    store = gx_.context.validation_results_store
    paths = sorted((gx_dir / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert len(paths) == len(SUITE_NAMES)
    assert not list(gx_dir.rglob("*.tmp"))
    for path in paths:
        ours = path.read_bytes()
        doc = json.loads(ours)
        expected, run_id = _gx_object(doc, gx_)
        suite = ExpectationSuiteIdentifier(name=doc["suite_name"])
        batch = doc["meta"]["active_batch_definition"]
        key = ValidationResultIdentifier(
            expectation_suite_identifier=suite,
            run_id=run_id,
            batch_identifier=f"{batch['datasource_name']}-{batch['data_asset_name']}",
        )
        assert key in store.list_keys()  # GX finds the file under the key it would use
        assert store.get(key).to_json_dict() == expected.to_json_dict()
        path.unlink()
        store.store_validation_results(expected, key, expectation_suite_identifier=suite)
        assert path.read_bytes() == ours, doc["suite_name"]  # byte for byte, same file


def test_project_ids_come_from_the_gx_project_and_follow_the_suite_files(tmp_path):
    gx_dir = tmp_path / "gx"
    assert gx_store.project_ids(gx_dir) is None  # no project yet
    gx_ = gx_runner.get_gx(gx_dir)
    ids = gx_store.project_ids(gx_dir)
    assert set(ids) == set(SUITE_NAMES)
    for suite, suite_ids in ids.items():
        definition = gx_.definitions[suite]
        assert suite_ids.validation_id == definition.id
        assert suite_ids.expectation_ids == tuple(e.id for e in definition.suite.expectations)
        assert len(suite_ids.expectation_ids) == len(load_suite_spec(suite)["expectations"])
    stale = gx_dir / "gx" / "expectations" / "complaints_time.json"
    spec = json.loads(stale.read_text(encoding="utf-8"))
    spec["meta"]["source_sha256"] = "an older suite file"
    stale.write_text(json.dumps(spec), encoding="utf-8")
    assert gx_store.project_ids(gx_dir) is None  # recording brings the project up to date first
    stale.unlink()
    assert gx_store.project_ids(gx_dir) is None


def test_result_path_is_gxs_key_layout(tmp_path):
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    gx_ = gx_runner.get_gx(tmp_path / "gx")
    backend = gx_.context.validation_results_store.store_backend
    when = datetime.fromisoformat("2026-10-30T23:59:58.000001+07:00")
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name="complaints_keys"),
        run_id=RunIdentifier(run_name="kab-5102_2026-10-30_r1", run_time=when),
        batch_identifier="complaints-canonical_rows",
    )
    gx_path = Path(backend.full_base_directory, backend._convert_key_to_filepath(key.to_tuple()))
    ours = gx_store.result_path(
        tmp_path / "gx",
        "complaints_keys",
        "kab-5102_2026-10-30_r1",
        when,
        "complaints-canonical_rows",
    )
    assert ours == gx_path
    assert ours.parent.name == "20261030T165958.000001Z"


def _record_in_child(args):
    gx_dir, source = args
    for run in range(3):
        audit(*batch([good_record(i) for i in range(5)]), gx_dir=gx_dir, source_id=source,
              run_id=f"run-{run}")  # fmt: skip
    return "great_expectations" in sys.modules


def test_processes_record_into_one_project_at_once_without_gx(tmp_path):
    gx_dir = tmp_path / "gx"
    gx_runner.get_gx(gx_dir)  # the project exists
    sources = [f"kab-{i}" for i in range(4)]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert pool.map(_record_in_child, [(gx_dir, s) for s in sources]) == [False] * 4
    validations = gx_dir / "gx" / "uncommitted" / "validations"
    stored = sorted(validations.rglob("*.json"))
    assert len(stored) == len(sources) * 3 * len(ROW_SUITES)
    assert not [p for p in validations.rglob("*") if p.is_file() and p.suffix == ".tmp"]
    keys = gx_runner.get_gx(gx_dir).context.validation_results_store.list_keys()
    assert len(keys) == len(stored)
    for path in stored:
        assert json.loads(path.read_text(encoding="utf-8"))["suite_name"] in ROW_SUITES


INGEST = """
import datetime as dt, json, sys
from complaints.pipeline import ingest_source
run = ingest_source("kab-5102", dt.date.fromisoformat(sys.argv[1]))
print(json.dumps({"gx": "great_expectations" in sys.modules, "run": run}, default=str))
"""


def test_ingesting_a_source_day_records_without_importing_gx(settings, monkeypatch):
    """A source-day's task process writes its results without GX; Data Docs built later (with
    GX, once a day) show each suite's page for that source-day with the expectations' outcomes."""
    from complaints.config import Settings
    from complaints.pipeline import registry_for
    from complaints.simulate import simulate

    monkeypatch.setenv("COMPLAINTS_REGISTRY", str(INCLUDE_DIR / "registry" / "sources.small.yaml"))
    monkeypatch.setenv("COMPLAINTS_GX_MODE", "record")
    settings = Settings.from_env()
    day = date(2026, 10, 30)
    simulate(
        settings,
        [registry_for(settings).source("kab-5102")],
        day,
        day,
        seed=5,
        scale=0.3,
        broken_share=0.3,
    )
    gx_dir = settings.data_dir / "gx"
    build_data_docs(gx_dir)  # an earlier day's Data Docs: the GX project exists
    out = subprocess.run(
        [sys.executable, "-c", INGEST, day.isoformat()],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "plugins")},
    ).stdout
    child = json.loads(out.strip().splitlines()[-1])
    assert child["gx"] is False
    run = child["run"]
    assert run["status"] == "rejected"  # too many broken rows: recorded all the same
    name = gx_runner.run_name("kab-5102", day, run["run_id"])
    index = build_data_docs(gx_dir)
    assert name in index.read_text(encoding="utf-8")
    failures = 0
    for suite in ROW_SUITES:
        [stored] = (gx_dir / "gx" / "uncommitted" / "validations" / suite / name).rglob("*.json")
        results = json.loads(stored.read_text(encoding="utf-8"))["results"]
        [page] = (index.parent / "validations" / suite / name).rglob("*.html")
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))
        failed = sum(not r["success"] for r in results)
        assert len(results) == len(load_suite_spec(suite)["expectations"])
        assert f"Evaluated Expectations {len(results)}" in text, suite
        assert f"Unsuccessful Expectations {failed}" in text, suite
        failures += failed
    assert failures  # the broken rows fail expectations, and the pages show it
