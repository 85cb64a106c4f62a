"""Fixtures shared by the bad-input tests (test_bad_input*.py, test_batch_policy.py)."""

from __future__ import annotations

import pytest
from bad_input_support import Lapor


@pytest.fixture
def lapor(tmp_path, monkeypatch):
    """A file source (kab-1105) in a fresh data folder, ingested through the real pipeline."""
    return Lapor(tmp_path, monkeypatch)
