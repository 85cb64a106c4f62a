"""Store recorded results (``recorded``) where GX stores validation results, without GX.

``ValidationDefinition.run`` validates, sets ``meta`` (validation id, run id, validation time,
batch parameters), and calls ``context.validation_results_store.store_validation_results`` with a
``ValidationResultIdentifier(batch_identifier=<active batch id>, expectation_suite_identifier,
run_id)``. Here the same document (an ``ExpectationSuiteValidationResult`` holding one
``ExpectationValidationResult`` per expectation, with the suite's expectation ids) is built from
the vectorised results as plain JSON and written to that key's file, byte for byte what GX's
store writes (``gx_store``), so Data Docs render it exactly like a real validation.

great_expectations is not imported: the ids come from the project's suite and validation
definition files. Only when the project does not exist yet, or holds another version of the
suites, does ``gx_runner.get_gx`` create or update it (once, for every later process).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib.metadata import version
from pathlib import Path

from complaints.quality import gx_runner, gx_store
from complaints.quality.suites import VOLUME_SUITE

MODE = "record"
_IDS: dict[str, dict[str, gx_store.SuiteIds]] = {}


def _exception_info(res: dict) -> dict:
    return {
        "raised_exception": bool(res["exception"]),
        "exception_message": res["exception"],
        "exception_traceback": None,
    }


def _result_doc(res: dict, ident: str, batch_id: str) -> dict:
    """One result as GX's ``ExpectationValidationResult.to_json_dict`` gives it."""
    return {
        "success": bool(res["success"]),
        "expectation_config": {
            "type": res["type"],
            "kwargs": dict(res["kwargs"], batch_id=batch_id),
            "meta": res["meta"],
            "id": ident,
            "severity": "critical",
        },
        "result": res["result"],
        "meta": {},
        "exception_info": _exception_info(res),
    }


@cache
def _gx_version() -> str:
    return version("great_expectations")


def _ids(gx_dir: Path) -> dict[str, gx_store.SuiteIds]:
    """The project's suite ids (read once per process); creates the project when missing."""
    key = str(gx_dir.resolve())
    if key not in _IDS:
        ids = gx_store.project_ids(gx_dir)
        if ids is None:
            gx_runner.get_gx(gx_dir)  # imports GX: adds or updates the suites (once per project)
            ids = gx_store.project_ids(gx_dir)
        if ids is None:
            raise RuntimeError(f"GX project in {gx_dir} has no current suites after creating it")
        _IDS[key] = ids
    return _IDS[key]


def result_document(
    suite: str,
    results: list[dict],
    *,
    ids: gx_store.SuiteIds,
    name: str,
    batch_meta: dict,
    now: datetime,
) -> tuple[dict, str]:
    """The stored document of one suite's recorded results, and its batch id.

    ``batch_meta`` (source, day, run id, rows) goes into ``meta.active_batch_definition``'s
    batch identifiers and ``meta.complaints``.
    """
    asset = gx_runner.RAW_ASSET if suite == VOLUME_SUITE else gx_runner.ROWS_ASSET
    batch_id = f"{gx_runner.DATASOURCE}-{asset}"
    docs = [_result_doc(r, i, batch_id) for r, i in zip(results, ids.expectation_ids, strict=True)]
    passed = sum(d["success"] for d in docs)
    batch = {k: str(v) for k, v in batch_meta.items()}
    meta = {
        "great_expectations_version": _gx_version(),
        "active_batch_definition": {
            "datasource_name": gx_runner.DATASOURCE,
            "data_connector_name": "fluent",
            "data_asset_name": asset,
            "batch_identifiers": {"dataframe": "<DATAFRAME>", **batch},
        },
        "batch_markers": {"ge_load_time": now.strftime("%Y%m%dT%H%M%S.%fZ")},
        "batch_spec": {"batch_data": "recorded from the vectorised row checks"},
        "batch_parameters": {"dataframe": "<DATAFRAME>"},
        "validation_id": ids.validation_id,
        "checkpoint_id": None,
        "run_id": {"run_name": name, "run_time": now.isoformat()},
        "validation_time": now.isoformat(),
        "complaints": {"gx_mode": MODE, **batch},
    }
    statistics = {
        "evaluated_expectations": len(docs),
        "successful_expectations": passed,
        "unsuccessful_expectations": len(docs) - passed,
        "success_percent": 100.0 * passed / len(docs) if docs else None,
    }
    doc = {
        "id": None,
        "success": passed == len(docs),
        "results": docs,
        "suite_name": suite,
        "suite_parameters": {},
        "statistics": statistics,
        "meta": meta,
    }
    return doc, batch_id


def store(
    suite: str,
    results: list[dict],
    *,
    gx_dir: Path,
    name: str,
    batch_meta: dict,
) -> Path:
    """Store one suite's recorded results for the run ``name``; the file written."""
    gx_dir = Path(gx_dir)
    now = datetime.now(UTC)
    doc, batch_id = result_document(
        suite, results, ids=_ids(gx_dir)[suite], name=name, batch_meta=batch_meta, now=now
    )
    return gx_store.write_result(gx_store.result_path(gx_dir, suite, name, now, batch_id), doc)
