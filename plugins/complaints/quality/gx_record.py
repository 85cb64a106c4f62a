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
from pathlib import Path

from complaints.quality import gx_runner
from complaints.quality.suites import VOLUME_SUITE

MODE = "record"


def _config(res: dict, suite_obj, position: int, batch_id: str):
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    expectations = suite_obj.expectations if suite_obj is not None else []
    ident = expectations[position].id if position < len(expectations) else None
    kwargs = dict(res["kwargs"], batch_id=batch_id)
    return ExpectationConfiguration(type=res["type"], kwargs=kwargs, meta=res["meta"], id=ident)


def _result(res: dict, config):
    from great_expectations.core import ExpectationValidationResult

    raised = bool(res["exception"])
    return ExpectationValidationResult(
        success=bool(res["success"]),
        expectation_config=config,
        result=res["result"],
        exception_info={
            "raised_exception": raised,
            "exception_message": res["exception"],
            "exception_traceback": None,
        },
    )


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
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    gx_ = gx_runner.get_gx(gx_dir)
    definition = gx_.definitions[suite]
    asset = gx_runner.RAW_ASSET if suite == VOLUME_SUITE else gx_runner.ROWS_ASSET
    batch_id = f"{gx_runner.DATASOURCE}-{asset}"
    configs = [_config(r, definition.suite, i, batch_id) for i, r in enumerate(results)]
    evrs = [_result(r, c) for r, c in zip(results, configs, strict=True)]
    passed = sum(r.success for r in evrs)
    now = datetime.now(UTC)
    run_id = RunIdentifier(run_name=name, run_time=now)
    identifiers = {"dataframe": "<DATAFRAME>", **{k: str(v) for k, v in batch_meta.items()}}
    suite_result = ExpectationSuiteValidationResult(
        success=passed == len(evrs),
        results=evrs,
        suite_name=suite,
        suite_parameters={},
        statistics={
            "evaluated_expectations": len(evrs),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(evrs) - passed,
            "success_percent": 100.0 * passed / len(evrs) if evrs else None,
        },
        meta={
            "great_expectations_version": gx.__version__,
            "active_batch_definition": {
                "datasource_name": gx_runner.DATASOURCE,
                "data_connector_name": "fluent",
                "data_asset_name": asset,
                "batch_identifiers": identifiers,
            },
            "batch_markers": {"ge_load_time": now.strftime("%Y%m%dT%H%M%S.%fZ")},
            "batch_spec": {"batch_data": "recorded from the vectorised row checks"},
            "batch_parameters": {"dataframe": "<DATAFRAME>"},
            "validation_id": definition.id,
            "checkpoint_id": None,
            "run_id": run_id,
            "validation_time": now,
            "complaints": {"gx_mode": MODE, **{k: str(v) for k, v in batch_meta.items()}},
        },
        batch_id=batch_id,
    )
    key = ValidationResultIdentifier(
        batch_identifier=batch_id,
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite),
        run_id=run_id,
    )
    with gx_.run_lock:
        gx_.context.validation_results_store.store_validation_results(
            suite_validation_result=suite_result,
            suite_validation_result_identifier=key,
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite),
        )
    return suite_result
