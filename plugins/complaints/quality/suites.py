"""The expectation suites: versioned JSON files in ``include/expectations/``.

A suite file is a GX 1.x ExpectationSuite document (``name``, ``meta``, ``expectations``). Every
expectation's ``meta.rule`` names the rule it enforces; for row-level rules that name is also the
quarantine reason the vectorised row checks (``rowchecks``) give a failing row, which is how the
GX results and the row checks are compared. Values that change per run (vocabularies, reference
sets, as-of bounds) are ``{"$PARAMETER": name}`` placeholders filled at validation time.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from complaints.config import INCLUDE_DIR

EXPECTATIONS_DIR = INCLUDE_DIR / "expectations"

#: suites run on the mapped canonical rows, in the order their reasons are listed
ROW_SUITES = (
    "complaints_schema",
    "complaints_values",
    "complaints_order",
    "complaints_time",
    "complaints_keys",
)
#: suite run on the raw batch (rows read)
VOLUME_SUITE = "complaints_volume"
SUITE_NAMES = ROW_SUITES + (VOLUME_SUITE,)


@cache
def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def load_suite_spec(name: str, directory: Path | None = None) -> dict:
    """The suite file ``<name>.json`` as a dict (a fresh copy each call)."""
    path = (directory or EXPECTATIONS_DIR) / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"expectation suite {name!r} not found at {path}")
    spec = json.loads(_read(str(path)))
    if spec.get("name") != name:
        raise ValueError(f"{path} declares suite name {spec.get('name')!r}, expected {name!r}")
    for i, exp in enumerate(spec.get("expectations", [])):
        if not exp.get("meta", {}).get("rule"):
            raise ValueError(f"{path}: expectation {i} ({exp.get('type')}) has no meta.rule")
    return spec


def spec_digest(name: str) -> str:
    """SHA-256 of the suite file's content (key order aside): which version a GX project holds."""
    return hashlib.sha256(json.dumps(load_suite_spec(name), sort_keys=True).encode()).hexdigest()


def suite_meta(name: str, directory: Path | None = None) -> dict:
    """The suite's ``meta`` block (policy knobs such as tolerances and factors live here)."""
    return load_suite_spec(name, directory).get("meta", {})


def load_suite(name: str, directory: Path | None = None):
    """The suite file as a GX ``ExpectationSuite`` (not yet added to any context)."""
    from great_expectations.core import ExpectationSuite

    spec = load_suite_spec(name, directory)
    return ExpectationSuite(
        name=spec["name"], expectations=spec["expectations"], meta=spec.get("meta", {})
    )
