"""The suite's warning filters (pyproject.toml): a deprecation our own code triggers fails the
test, one raised inside a library stays quiet."""

from __future__ import annotations

import warnings

import pytest


def _warn_from(module: str, category: type[Warning]) -> None:
    warnings.warn_explicit("a deprecated call", category, f"{module}.py", 1, module=module)


@pytest.mark.parametrize("module", ["complaints", "complaints.pipeline", "bench.suite"])
@pytest.mark.parametrize("category", [DeprecationWarning, FutureWarning])
def test_a_deprecation_attributed_to_our_code_fails(module, category):
    with pytest.raises(category):
        _warn_from(module, category)


@pytest.mark.parametrize(
    "module", ["pandas.core.series", "great_expectations.validator", "complaintsx"]
)
def test_a_deprecation_inside_a_library_stays_quiet(module):
    with warnings.catch_warnings(record=True) as caught:
        _warn_from(module, DeprecationWarning)
    assert caught == []


@pytest.mark.parametrize("category", [DeprecationWarning, FutureWarning])
def test_a_deprecation_attributed_to_a_dag_file_fails(category):
    """Airflow imports a DAG file under a generated module name; ours are covered too."""
    from airflow.utils.file import get_unique_dag_module_name

    from complaints.config import PROJECT_ROOT

    for path in sorted((PROJECT_ROOT / "dags").glob("*.py")):
        with pytest.raises(category):
            _warn_from(get_unique_dag_module_name(str(path)), category)
