"""Store recorded results (``recorded``) in GX's validation results store, as GX would.

``ValidationDefinition.run`` validates, sets ``meta`` (validation id, run id, validation time,
batch parameters), and calls ``context.validation_results_store.store_validation_results`` with a
``ValidationResultIdentifier(batch_identifier=<active batch id>, expectation_suite_identifier,
run_id)``. Here the same result objects (``ExpectationSuiteValidationResult`` holding one
``ExpectationValidationResult`` per expectation, with the suite's ``ExpectationConfiguration``)
are built from the vectorised results and stored under the same key layout, so Data Docs render
them exactly like real validations. great_expectations is imported only when storing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from complaints.quality import gx_runner
from complaints.quality.suites import VOLUME_SUITE

MODE = "record"


def _config(res: dict, ident: str | None, batch_id: str):
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    kwargs = dict(res["kwargs"], batch_id=batch_id)
    return ExpectationConfiguration(type=res["type"], kwargs=kwargs, meta=res["meta"], id=ident)


def _result(res: dict, config):
    from great_expectations.core import ExpectationValidationResult

    return ExpectationValidationResult(
        success=bool(res["success"]),
        expectation_config=config,
        result=res["result"],
        exception_info=_exception_info(res),
    )


def _exception_info(res: dict) -> dict:
    return {
        "raised_exception": bool(res["exception"]),
        "exception_message": res["exception"],
        "exception_traceback": None,
    }


def _result_doc(res: dict, ident: str | None, batch_id: str) -> dict:
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
def _result_class():
    """``ExpectationSuiteValidationResult`` whose JSON form is the one already built.

    The store serialises a result as ``schema.dumps(result.to_json_dict())``; GX's own
    ``to_json_dict`` deep-copies the object and walks it with ``convert_to_json_serializable``
    (~2/3 of the ~90 ms GX spends storing a source-day's six results). The recorded results
    are plain JSON already, so this class hands over that dict; the store's schema still
    validates and writes it.
    """
    from great_expectations.core import ExpectationSuiteValidationResult

    class RecordedSuiteValidationResult(ExpectationSuiteValidationResult):
        json_doc: dict | None = None

        def to_json_dict(self):
            if self.json_doc is None:
                return super().to_json_dict()
            return self.json_doc

    return RecordedSuiteValidationResult


def store(
    suite: str,
    results: list[dict],
    *,
    gx_dir: Path,
    name: str,
    batch_meta: dict,
) -> object:
    """Store one suite's recorded results for the run ``name``; the stored GX result object.

    ``batch_meta`` (source, day, run id, rows) goes into ``meta.active_batch_definition``'s
    batch identifiers and ``meta.complaints``.
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    gx_ = gx_runner.get_gx(gx_dir)
    definition = gx_.definitions[suite]
    asset = gx_runner.RAW_ASSET if suite == VOLUME_SUITE else gx_runner.ROWS_ASSET
    batch_id = f"{gx_runner.DATASOURCE}-{asset}"
    expectations = definition.suite.expectations
    ids = (
        [e.id for e in expectations] if len(expectations) == len(results) else [None] * len(results)
    )
    evrs = [_result(r, _config(r, i, batch_id)) for r, i in zip(results, ids, strict=True)]
    passed = sum(r.success for r in evrs)
    now = datetime.now(UTC)
    run_id = RunIdentifier(run_name=name, run_time=now)
    batch = {k: str(v) for k, v in batch_meta.items()}
    meta = {
        "great_expectations_version": gx.__version__,
        "active_batch_definition": {
            "datasource_name": gx_runner.DATASOURCE,
            "data_connector_name": "fluent",
            "data_asset_name": asset,
            "batch_identifiers": {"dataframe": "<DATAFRAME>", **batch},
        },
        "batch_markers": {"ge_load_time": now.strftime("%Y%m%dT%H%M%S.%fZ")},
        "batch_spec": {"batch_data": "recorded from the vectorised row checks"},
        "batch_parameters": {"dataframe": "<DATAFRAME>"},
        "validation_id": definition.id,
        "checkpoint_id": None,
        "run_id": run_id,
        "validation_time": now,
        "complaints": {"gx_mode": MODE, **batch},
    }
    statistics = {
        "evaluated_expectations": len(evrs),
        "successful_expectations": passed,
        "unsuccessful_expectations": len(evrs) - passed,
        "success_percent": 100.0 * passed / len(evrs) if evrs else None,
    }
    suite_result = _result_class()(
        success=passed == len(evrs),
        results=evrs,
        suite_name=suite,
        suite_parameters={},
        statistics=statistics,
        meta=meta,
        batch_id=batch_id,
    )
    suite_result.json_doc = {
        "id": None,
        "success": passed == len(evrs),
        "results": [_result_doc(r, i, batch_id) for r, i in zip(results, ids, strict=True)],
        "suite_name": suite,
        "suite_parameters": {},
        "statistics": statistics,
        "meta": dict(
            meta,
            run_id={"run_name": name, "run_time": now.isoformat()},
            validation_time=now.isoformat(),
        ),
    }
    key = ValidationResultIdentifier(
        batch_identifier=batch_id,
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite),
        run_id=run_id,
    )
    if gx_.results_store is None:  # the context looks it up by name on every access
        gx_.results_store = gx_.context.validation_results_store
    with gx_.run_lock:
        gx_.results_store.store_validation_results(
            suite_validation_result=suite_result,
            suite_validation_result_identifier=key,
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite),
        )
    return suite_result
