"""Great Expectations (GX Core 1.x) plumbing: one context per process, validation, Data Docs.

The context is file-based and rooted at ``gx_dir`` (``<gx_dir>/gx/``) when one is given, so
validation results persist and Data Docs can be built from them; ``gx_dir=None`` gives an
ephemeral in-memory context. Contexts are created once per process (and per ``gx_dir``) and
reused. Only validate mode, Data Docs builds and the first recording into a new project (or
one holding older suite files) create a context: record mode otherwise writes its results
without GX (``gx_store``, ``gx_record``). Several processes may share one ``gx_dir``: writes to
the project configuration (data source, suites, validation definitions) and Data Docs builds
happen under an exclusive file lock, and each validation result is stored under its own run
name (``<source>_<day>_<run_id>``), so concurrent runs never write the same file.

GX never touches the network here: analytics are disabled by environment and in the project
configuration, and progress bars are off.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from complaints.quality import gx_store
from complaints.quality.gx_store import file_lock
from complaints.quality.suites import (
    ROW_SUITES,
    SUITE_NAMES,
    VOLUME_SUITE,
    load_suite_spec,
    spec_digest,
)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

DATASOURCE = "complaints"
ROWS_ASSET = "canonical_rows"
RAW_ASSET = "raw_rows"
BATCH_DEFINITION = "whole_batch"
DEFAULT_RESULT_FORMAT = "SUMMARY"
#: COMPLAINTS_GX_MODE: "record" stores results computed by the vectorised checks; "validate"
#: runs every suite through GX (slow: ~0.5 s per suite and batch, for agreement tests/operators)
MODE_ENV = "COMPLAINTS_GX_MODE"
GX_MODES = ("record", "validate")

_PROCESS_LOCK = threading.RLock()


@dataclass
class _Gx:
    context: object
    definitions: dict  # suite name -> ValidationDefinition
    run_lock: threading.Lock


_CONTEXTS: dict[tuple[int, str | None], _Gx] = {}


def _suite(name: str):
    from great_expectations.core import ExpectationSuite

    spec = load_suite_spec(name)
    meta = dict(spec.get("meta", {}), source_sha256=spec_digest(name))
    return ExpectationSuite(name=name, expectations=spec["expectations"], meta=meta)


def _ensure(getter, adder, name: str, wanted, same):
    """Get ``name`` from a GX store, adding (or replacing) it when missing or changed."""
    try:
        found = getter(name)
    except Exception:  # GX raises store-specific errors for a missing name
        found = None
    if found is not None and same(found):
        return found
    return adder(wanted)


def _create(gx_dir: Path | None) -> _Gx:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    if gx_dir is None:
        context = gx.get_context(mode="ephemeral")
    else:
        context = gx.get_context(mode="file", project_root_dir=str(gx_dir))
    context.config.analytics_enabled = False
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if gx_dir is not None:
        context.variables.save()

    try:
        source = context.data_sources.get(DATASOURCE)
    except Exception:  # not there yet
        source = context.data_sources.add_pandas(DATASOURCE)
    batches = {}
    for asset_name in (ROWS_ASSET, RAW_ASSET):
        try:
            asset = source.get_asset(asset_name)
        except Exception:  # not there yet
            asset = source.add_dataframe_asset(asset_name)
        try:
            batches[asset_name] = asset.get_batch_definition(BATCH_DEFINITION)
        except Exception:  # not there yet
            batches[asset_name] = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)

    definitions = {}
    for name in SUITE_NAMES:
        wanted = _suite(name)
        digest = wanted.meta["source_sha256"]
        suite = _ensure(
            context.suites.get,
            context.suites.add_or_update,
            name,
            wanted,
            lambda s, d=digest: (s.meta or {}).get("source_sha256") == d,
        )
        batch = batches[RAW_ASSET if name == VOLUME_SUITE else ROWS_ASSET]
        definitions[name] = _ensure(
            context.validation_definitions.get,
            context.validation_definitions.add_or_update,
            name,
            gx.ValidationDefinition(name=name, data=batch, suite=suite),
            lambda v, s=suite: (v.suite.meta or {}).get("source_sha256") == s.meta["source_sha256"],
        )
    return _Gx(context=context, definitions=definitions, run_lock=threading.Lock())


def get_gx(gx_dir: Path | None) -> _Gx:
    """The process's GX context for ``gx_dir`` (created, with its suites, on first use)."""
    key = (os.getpid(), str(Path(gx_dir).resolve()) if gx_dir is not None else None)
    with _PROCESS_LOCK:
        if key not in _CONTEXTS:
            path = Path(gx_dir) if gx_dir is not None else None
            with file_lock(path):
                _CONTEXTS[key] = _create(path)
        return _CONTEXTS[key]


def gx_mode() -> str:
    """The GX mode from ``COMPLAINTS_GX_MODE``: "record" (default) or "validate"."""
    mode = os.environ.get(MODE_ENV, "").strip().lower() or "record"
    if mode not in GX_MODES:
        raise ValueError(f"{MODE_ENV} must be one of {', '.join(GX_MODES)}, not {mode!r}")
    return mode


def run_name(source_id: str, day, run_id: str) -> str:
    """A file-safe run name for the results store: ``<source>_<day>_<run_id>``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{source_id}_{day}_{run_id}")


def check_name(exp_type: str, kwargs: dict) -> str:
    args = kwargs.get("column") or kwargs.get("column_list")
    if args is None and "column_A" in kwargs:
        args = [kwargs["column_A"], kwargs["column_B"]]
    if isinstance(args, list):
        args = ",".join(args)
    return f"{exp_type}({args})" if args else exp_type


def validate(
    frame: pd.DataFrame,
    suite: str,
    *,
    parameters: dict,
    gx_dir: Path | None,
    name: str,
    result_format: str = DEFAULT_RESULT_FORMAT,
) -> list[dict]:
    """Validate ``frame`` against ``suite``; one check dict per expectation, in suite order.

    Each dict: ``name``, ``suite``, ``rule`` (the expectation's ``meta.rule``), ``success``,
    ``unexpected_count`` (None for table/column-level expectations), ``details``.
    """
    from great_expectations.core.run_identifier import RunIdentifier

    gx_ = get_gx(gx_dir)
    run_id = RunIdentifier(run_name=name, run_time=datetime.now(UTC))
    with gx_.run_lock:
        result = gx_.definitions[suite].run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=parameters,
            result_format=result_format,
            run_id=run_id,
        )
    order = {exp["meta"]["rule"]: i for i, exp in enumerate(load_suite_spec(suite)["expectations"])}
    checks = []
    for res in result.results:
        config = res.expectation_config
        rule = (config.meta or {}).get("rule")
        details: dict = {"rule": rule}
        observed = res.result.get("observed_value")
        if observed is not None:
            details["observed_value"] = _plain(observed)
        if res.exception_info and res.exception_info.get("raised_exception"):
            details["exception"] = res.exception_info.get("exception_message")
        count = res.result.get("unexpected_count")
        checks.append(
            {
                "name": check_name(config.type, config.kwargs),
                "suite": suite,
                "success": bool(res.success),
                "unexpected_count": None if count is None else int(count),
                "details": details,
            }
        )
    checks.sort(key=lambda c: order.get(c["details"]["rule"], len(order)))
    return checks


def _plain(value):
    """JSON-safe copy of an observed value."""
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)


def data_docs_index(gx_dir: Path) -> Path:
    """Where the Data Docs ``index.html`` of ``gx_dir`` is (or will be): nothing is built."""
    return Path(gx_dir, gx_store.PROJECT, *gx_store.SITE, "index.html")


def _day_identifiers(gx_dir: Path, day: date) -> set:
    """The suites and ``day``'s stored results, as the keys GX's Data Docs builders compare."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    # never empty (GX renders everything for no identifiers), and a set: GX tests every stored
    # key's membership, which a list of a national day's thousands of results makes quadratic
    suites = {ExpectationSuiteIdentifier(name) for name in SUITE_NAMES}
    keys = gx_store.day_result_keys(gx_dir, day)
    return suites | {ValidationResultIdentifier.from_tuple(key) for key in keys}


def build_data_docs(gx_dir: Path, day: date | None = None, *, keep_days: int | None = None) -> Path:
    """Build the GX Data Docs site; path of index.html.

    With ``day``, render the suites and that day's stored results only (earlier days' pages
    stay as they are), then the index; without, render every stored result (a full rebuild,
    costly: once per day at most). ``keep_days`` (with ``day``) first removes the results of
    days before the ``keep_days`` days ending at ``day``, and their pages, so the index (which
    loads every kept result) stays bounded; results of later days are kept.
    """
    if keep_days is not None and (day is None or keep_days < 1):
        raise ValueError(f"keep_days needs a day and must be at least 1, not {keep_days!r}")
    gx_dir = Path(gx_dir)
    gx_ = get_gx(gx_dir)
    with file_lock(gx_dir), gx_.run_lock:
        if keep_days is not None:
            gx_store.remove_results_before(gx_dir, day - timedelta(days=keep_days - 1))
        only = None if day is None else _day_identifiers(gx_dir, day)
        sites = gx_.context.build_data_docs(resource_identifiers=only)
    index = data_docs_index(gx_dir)
    if not index.is_file():  # a differently configured site: trust what GX reports
        url = next(iter(sites.values()), "")
        index = Path(url.removeprefix("file://"))
    return index


__all__ = [
    "ROW_SUITES",
    "build_data_docs",
    "data_docs_index",
    "get_gx",
    "gx_mode",
    "run_name",
    "validate",
]
