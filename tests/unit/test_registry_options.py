"""Every option a connector reads can be set from the registry, and nothing else can."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from complaints.registry.models import CONNECTOR_OPTIONS

CONNECTORS = Path(__file__).resolve().parents[2] / "plugins" / "complaints" / "connectors"
FILES = {
    "http": ["http.py", "base.py"],
    "sql": ["sql.py", "base.py"],
    "file": ["files.py", "base.py"],
}
PATTERN = re.compile(
    r"""(?:opt_number|opt_choice|_identifier|options\.get)\(\s*["']([a-z_]+)["']"""
)


@pytest.mark.parametrize("kind", sorted(FILES))
def test_registry_accepts_every_option_the_connector_reads(kind):
    read = set()
    for name in FILES[kind]:
        read |= set(PATTERN.findall((CONNECTORS / name).read_text()))
    assert read, "the pattern found no options: the connector code changed shape"
    assert read <= set(CONNECTOR_OPTIONS[kind]), read - set(CONNECTOR_OPTIONS[kind])
