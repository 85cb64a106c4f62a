"""The GX project folder's files, read and written without importing great_expectations.

``gx_runner`` creates the file-based GX project under ``<gx_dir>/gx/`` (suites in
``expectations/<suite>.json``, validation definitions in ``validation_definitions/<suite>.json``,
results in ``uncommitted/validations/``). Record mode only needs the ids GX gave the suites'
expectations and validation definitions, and to put each result where GX's
``ValidationResultsStore`` (a ``TupleFilesystemStoreBackend``) would: the file of the key
``ValidationResultIdentifier(suite, RunIdentifier(run_name, run_time), batch_id)``, serialised as
``ExpectationSuiteValidationResultSchema().dumps(doc, indent=2, sort_keys=True)``, which for a
plain JSON document is ``json.dumps`` with the same arguments. Both are read and written here, so
a process that records results never imports great_expectations (2-10 s per process).

Data Docs pages of results are under ``uncommitted/data_docs/local_site/validations/`` with the
same key (``.html``). Each result's run name holds its day (``<source>_<day>_<run_id>``), so the
day's results (to render incrementally) and older days' (to remove) are found by folder name.

Concurrency: every result has its own file (the run name holds source, day and run id; the run
time has microseconds) and is written to a temporary name and renamed, so concurrent writers
never share a file and readers never see half a file. GX itself writes the suite and definition
files under ``file_lock`` (exclusive); they are read here under the shared lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from complaints.quality.suites import SUITE_NAMES, spec_digest

PROJECT = "gx"
#: the validation results store's ``base_directory`` in the project configuration GX writes
VALIDATIONS = ("uncommitted", "validations")
RESULT_SUFFIX = ".json"
#: the Data Docs site (``local_site``) in the project configuration GX writes
SITE = ("uncommitted", "data_docs", "local_site")
_RUN_DAY = re.compile(r"_(\d{4}-\d{2}-\d{2})_")
_FORBIDDEN = ("/", "\\")


@dataclass(frozen=True)
class SuiteIds:
    """The ids GX gave a suite's validation definition and expectations (in suite order)."""

    validation_id: str
    expectation_ids: tuple[str, ...]


@contextmanager
def file_lock(gx_dir: Path | None, *, shared: bool = False):
    """Lock across processes sharing ``gx_dir`` (no-op for an ephemeral context)."""
    if gx_dir is None:
        yield
        return
    gx_dir.mkdir(parents=True, exist_ok=True)
    with open(gx_dir / ".gx.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _suite_ids(project: Path, suite: str) -> SuiteIds | None:
    spec = _read_json(project / "expectations" / f"{suite}.json")
    definition = _read_json(project / "validation_definitions" / f"{suite}.json")
    if spec is None or definition is None:
        return None
    current = (spec.get("meta") or {}).get("source_sha256") == spec_digest(suite)
    if not current or definition.get("suite", {}).get("id") != spec.get("id"):
        return None
    ids = tuple(e.get("id") for e in spec.get("expectations", []))
    if not definition.get("id") or not all(ids):
        return None
    return SuiteIds(validation_id=definition["id"], expectation_ids=ids)


def project_ids(gx_dir: Path) -> dict[str, SuiteIds] | None:
    """Every suite's ids, or None when the project is missing or holds another suite version."""
    project = Path(gx_dir) / PROJECT
    if not project.is_dir():
        return None
    with file_lock(Path(gx_dir), shared=True):
        ids = {suite: _suite_ids(project, suite) for suite in SUITE_NAMES}
    return None if any(v is None for v in ids.values()) else ids


def result_path(gx_dir: Path, suite: str, run_name: str, run_time: datetime, batch_id: str) -> Path:
    """The file GX's results store keeps the result of ``ValidationResultIdentifier`` in.

    The key tuple is the suite name split on dots, ``RunIdentifier.to_tuple()`` (run name, UTC
    run time as ``%Y%m%dT%H%M%S.%fZ``) and the batch identifier, joined with ``/``.
    """
    key = (
        *suite.split("."),
        run_name or "__none__",
        run_time.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ"),
        batch_id or "__none__",
    )
    for part in key:
        if any(s in part for s in _FORBIDDEN):
            raise ValueError(f"GX result keys must not contain {_FORBIDDEN}: {key}")
    return Path(gx_dir, PROJECT, *VALIDATIONS, *key[:-1], key[-1] + RESULT_SUFFIX)


def serialise(doc: dict) -> bytes:
    """A result document as the results store writes it."""
    return json.dumps(doc, indent=2, sort_keys=True).encode("utf-8")


def write_result(path: Path, doc: dict) -> Path:
    """Write ``doc`` to ``path`` atomically (a temporary name GX's store ignores, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(serialise(doc))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def run_day(run_name: str) -> date | None:
    """The day in a run name ``<source>_<day>_<run_id>`` (``gx_runner.run_name``), or None."""
    match = _RUN_DAY.search(run_name)
    try:
        return date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        return None


def _runs(gx_dir: Path) -> Iterator[tuple[str, Path]]:
    """Every stored run folder (``<suite>/<run name>``) of the current suites, with its suite."""
    base = Path(gx_dir, PROJECT, *VALIDATIONS)
    for suite in SUITE_NAMES:
        folder = base.joinpath(*suite.split("."))
        if folder.is_dir():
            yield from ((suite, run) for run in folder.iterdir() if run.is_dir())


def day_result_keys(gx_dir: Path, day: date) -> list[tuple[str, ...]]:
    """The store keys (suite parts, run name, run time, batch id) of ``day``'s stored results."""
    keys = []
    for suite, run in _runs(gx_dir):
        if run_day(run.name) == day:
            for path in run.glob(f"*/*{RESULT_SUFFIX}"):  # not the writers' temporary files
                batch_id = path.name.removesuffix(RESULT_SUFFIX)
                keys.append((*suite.split("."), run.name, path.parent.name, batch_id))
    return keys


def remove_results_before(gx_dir: Path, first_kept: date) -> int:
    """Remove the results of days before ``first_kept`` and their Data Docs pages.

    Results whose run name holds no day are kept. Returns how many run folders were removed.
    """
    pages = Path(gx_dir, PROJECT, *SITE, "validations")
    removed = 0
    for suite, run in list(_runs(gx_dir)):
        day = run_day(run.name)
        if day is not None and day < first_kept:
            shutil.rmtree(run, ignore_errors=True)
            shutil.rmtree(pages.joinpath(*suite.split("."), run.name), ignore_errors=True)
            removed += 1
    return removed
