"""Load and validate the source registry (sources.yaml) and its mappings (mappings.yaml).

Every problem is collected and reported at once in a :class:`RegistryError`, each line naming the
entry (index and id) and the field, e.g.
``sources[12] (kab-3171): region_code '99.99' is not in regions.csv``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from complaints.config import REFERENCE_REGIONS, Settings
from complaints.registry.models import (
    CONNECTOR_KINDS,
    LEVELS,
    PARENT_LEVELS,
    REGIONAL_LEVELS,
    Mapping,
    Source,
)

FRAME_COLUMNS = (
    "source_id",
    "institution_id",
    "name",
    "level",
    "parent",
    "region_code",
    "province_code",
    "province_name",
    "timezone",
    "population",
    "connector_kind",
    "owner_email",
)

#: libyaml's safe loader where PyYAML was built with it (the full registry: 0.64 -> 0.08 s, paid
#: by every process that reads it: each task of a deployment); the same documents either way
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class RegistryError(ValueError):
    """The registry is invalid; ``problems`` lists every problem found, one line each."""

    def __init__(self, problems: list[str], path: Path | None = None):
        self.problems = list(problems)
        self.path = path
        where = f" in {path}" if path else ""
        head = f"{len(self.problems)} problem(s){where}:"
        super().__init__("\n".join([head, *("  - " + p for p in self.problems)]))


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    province_code: str
    timezone: str
    population: int


@lru_cache(maxsize=4)
def load_regions(path: Path = REFERENCE_REGIONS) -> dict[str, Region]:
    """The Kemendagri reference (regions.csv) keyed by code ("31", "31.71")."""
    with open(path, newline="", encoding="utf-8") as handle:
        return {
            row["code"]: Region(
                code=row["code"],
                name=row["name"],
                level=row["level"],
                province_code=row["province_code"],
                timezone=row["timezone"],
                population=int(row["population"]),
            )
            for row in csv.DictReader(handle)
        }


class Registry:
    """The validated sources and mappings, with look-ups and selection."""

    def __init__(
        self, sources: list[Source], mappings: dict[str, Mapping], path: Path | None = None
    ):
        self.sources = list(sources)
        self.mappings = dict(mappings)
        self.path = path
        self._by_id = {s.id: s for s in self.sources}

    def __len__(self) -> int:
        return len(self.sources)

    def __iter__(self):
        return iter(self.sources)

    def source(self, source_id: str) -> Source:
        try:
            return self._by_id[source_id]
        except KeyError:
            raise KeyError(f"unknown source id {source_id!r}") from None

    def mapping_for(self, source: Source | str) -> Mapping:
        src = self.source(source) if isinstance(source, str) else source
        return self.mappings[src.mapping]

    def select(
        self,
        ids: Iterable[str] | None = None,
        kinds: Iterable[str] | None = None,
        levels: Iterable[str] | None = None,
        province: str | None = None,
        limit: int | None = None,
    ) -> list[Source]:
        """Sources matching every given filter, in registry order.

        ``province`` is a province code ("31") or a province source id ("prov-31"); it selects the
        province's own source and every kabupaten/kota in it. Unknown ids, kinds or levels raise
        a ``RegistryError`` rather than silently selecting nothing.
        """
        problems = []
        id_set = set(ids) if ids is not None else None
        if id_set is not None:
            problems += [f"unknown source id {i!r}" for i in sorted(id_set - set(self._by_id))]
        kind_set = set(kinds) if kinds is not None else None
        if kind_set is not None:
            problems += [
                f"unknown connector kind {k!r} (known: {', '.join(CONNECTOR_KINDS)})"
                for k in sorted(kind_set - set(CONNECTOR_KINDS))
            ]
        level_set = set(levels) if levels is not None else None
        if level_set is not None:
            problems += [
                f"unknown level {lv!r} (known: {', '.join(LEVELS)})"
                for lv in sorted(level_set - set(LEVELS))
            ]
        if province is not None:
            province = province.removeprefix("prov-")
            if province not in {s.province_code for s in self.sources if s.province_code}:
                problems.append(f"no source in province {province!r}")
        if limit is not None and limit < 0:
            problems.append(f"limit must be >= 0, not {limit}")
        if problems:
            raise RegistryError(problems, self.path)
        chosen = [
            s
            for s in self.sources
            if (id_set is None or s.id in id_set)
            and (kind_set is None or s.connector.kind in kind_set)
            and (level_set is None or s.level in level_set)
            and (province is None or s.province_code == province)
        ]
        return chosen if limit is None else chosen[:limit]

    def to_frame(self, sources: Iterable[Source] | None = None):
        """One row per source (the institution dimension), columns ``FRAME_COLUMNS``."""
        import pandas as pd

        provinces = {code: r.name for code, r in load_regions().items() if r.level == "provinsi"}
        rows = [
            {
                "source_id": s.id,
                "institution_id": s.institution_id,
                "name": s.name,
                "level": s.level,
                "parent": s.parent,
                "region_code": s.region_code,
                "province_code": s.province_code,
                "province_name": provinces.get(s.province_code),
                "timezone": s.timezone,
                "population": s.population,
                "connector_kind": s.connector.kind,
                "owner_email": s.owner_email,
            }
            for s in (self.sources if sources is None else sources)
        ]
        frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
        frame["population"] = frame["population"].astype("Int64")
        return frame


def _read_yaml(path: Path, key: str, problems: list[str]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"{path}: cannot read ({exc.strerror or exc})")
        return None
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        problems.append(f"{path}: not valid YAML ({exc})")
        return None
    if not isinstance(data, dict) or key not in data:
        problems.append(f"{path}: expected a top-level '{key}:' key")
        return None
    return data[key]


def _pydantic_problems(prefix: str, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        where = f"{prefix}: {loc}: " if loc else f"{prefix}: "
        if err["type"] == "missing":
            out.append(f"{where}is required")
        elif err["type"] == "extra_forbidden":
            out.append(f"{where}is not a known field")
        elif err["type"] == "value_error":
            msg = err["msg"].removeprefix("Value error, ")
            out += [where + line for line in msg.split("\n")]
        else:
            out.append(f"{where}{err['msg']} (got {err.get('input')!r})")
    return out


def load_mappings(path: Path) -> tuple[dict[str, Mapping], set[str], list[str]]:
    """Valid mappings by name, the names of all entries, and the problems found."""
    problems: list[str] = []
    raw = _read_yaml(path, "mappings", problems)
    if raw is None:
        return {}, set(), problems
    if not isinstance(raw, dict):
        return {}, set(), [f"{path}: 'mappings' must be a mapping of name -> mapping"]
    mappings: dict[str, Mapping] = {}
    for name, body in raw.items():
        prefix = f"mappings.{name}"
        if not isinstance(body, dict):
            problems.append(f"{prefix}: must be a mapping, not {type(body).__name__}")
            continue
        try:
            mappings[str(name)] = Mapping.model_validate({**body, "name": str(name)})
        except ValidationError as exc:
            problems += _pydantic_problems(prefix, exc)
    return mappings, {str(name) for name in raw}, problems


def _entry_order(problem: str) -> int:
    """Sort key: file and mapping problems first, then by source index (stable within one)."""
    match = re.match(r"sources\[(\d+)\]", problem)
    return int(match.group(1)) if match else -1


def _cross_checks(prefix: str, entry: dict, levels: dict, regions: dict[str, Region]) -> list[str]:
    """Checks against the other entries and regions.csv, on the raw entry (so they run even when
    the entry has other problems)."""
    problems = []
    level, parent = entry.get("level"), entry.get("parent")
    if level == "unit" and isinstance(parent, str) and parent:
        parent_level = levels.get(parent)
        if parent_level is None:
            problems.append(f"{prefix}: parent {parent!r} is not a source in the registry")
        elif parent_level not in PARENT_LEVELS:
            problems.append(
                f"{prefix}: parent {parent!r} is a {parent_level}, not a kementerian or lembaga"
            )
    code, timezone = entry.get("region_code"), entry.get("timezone")
    if level not in REGIONAL_LEVELS or not isinstance(code, str):
        return problems
    region = regions.get(code)
    if region is None:
        return [*problems, f"{prefix}: region_code {code!r} is not in regions.csv"]
    if region.level != level:
        problems.append(
            f"{prefix}: region_code {code!r} is a {region.level} ({region.name}), not a {level}"
        )
    if isinstance(timezone, str) and region.timezone != timezone:
        problems.append(
            f"{prefix}: timezone {timezone!r} does not match region {code} "
            f"({region.name}), which is {region.timezone}"
        )
    return problems


def load_registry(
    path: Path | None = None,
    mappings_path: Path | None = None,
    regions_path: Path | None = None,
) -> Registry:
    """Read, validate and return the registry; raise ``RegistryError`` listing every problem.

    Defaults: ``Settings.from_env().registry`` and ``mappings.yaml`` in the same folder.
    """
    path = Path(path) if path is not None else Settings.from_env().registry
    mappings_path = Path(mappings_path) if mappings_path else path.parent / "mappings.yaml"
    regions = load_regions(Path(regions_path) if regions_path else REFERENCE_REGIONS)

    mappings, mapping_names, problems = load_mappings(mappings_path)

    raw = _read_yaml(path, "sources", problems)
    if raw is None:
        raise RegistryError(problems, path)
    if not isinstance(raw, list):
        raise RegistryError([*problems, f"{path}: 'sources' must be a list"], path)

    valid: list[tuple[int, Source]] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        entry_id = entry.get("id") if isinstance(entry, dict) else None
        prefix = f"sources[{index}]" + (f" ({entry_id})" if entry_id else "")
        if not isinstance(entry, dict):
            problems.append(f"{prefix}: must be a mapping, not {type(entry).__name__}")
            continue
        if isinstance(entry_id, str):
            if entry_id in seen:
                problems.append(
                    f"{prefix}: duplicate id {entry_id!r} (first at sources[{seen[entry_id]}])"
                )
            else:
                seen[entry_id] = index
        mapping_name = entry.get("mapping")
        if mapping_names and isinstance(mapping_name, str) and mapping_name not in mapping_names:
            problems.append(f"{prefix}: mapping {mapping_name!r} is not in {mappings_path.name}")
        try:
            valid.append((index, Source.model_validate(entry)))
        except ValidationError as exc:
            problems += _pydantic_problems(prefix, exc)

    levels = {
        e["id"]: e.get("level") for e in raw if isinstance(e, dict) and isinstance(e.get("id"), str)
    }
    for index, entry in enumerate(raw):
        if isinstance(entry, dict):
            entry_id = entry.get("id")
            prefix = f"sources[{index}]" + (f" ({entry_id})" if entry_id else "")
            problems += _cross_checks(prefix, entry, levels, regions)

    sources: list[Source] = []
    for _, src in valid:
        region = regions.get(src.region_code or "") if src.is_regional else None
        sources.append(
            src.model_copy(
                update={
                    "province_code": region.province_code if region else None,
                    "population": region.population if region else None,
                }
            )
        )

    if problems:
        raise RegistryError(sorted(problems, key=_entry_order), path)
    return Registry(sources, mappings, path)
