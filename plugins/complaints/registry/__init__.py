"""The source registry: institutions, how each is read, and how its export maps to canonical."""

from complaints.registry.loader import (
    FRAME_COLUMNS,
    Region,
    Registry,
    RegistryError,
    load_mappings,
    load_regions,
    load_registry,
)
from complaints.registry.models import Connector, Mapping, Source, TimestampSpec

__all__ = [
    "FRAME_COLUMNS",
    "Connector",
    "Mapping",
    "Region",
    "Registry",
    "RegistryError",
    "Source",
    "TimestampSpec",
    "load_mappings",
    "load_regions",
    "load_registry",
]
