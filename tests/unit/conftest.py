"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def wh(settings):
    """A warehouse under the test's embedded settings."""
    from complaints.warehouse import Warehouse

    return Warehouse(settings)
