"""Typed registry entries: a source (institution + connector) and a mapping (export -> canonical).

The models check what an entry can tell about itself (id shape, level, e-mail, connector options,
mapping coverage). Checks that need the whole registry or the reference tables (unique ids, known
mapping, parent, region code, region time zone) live in :mod:`complaints.registry.loader`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from complaints import canonical

LEVELS = ("provinsi", "kabupaten", "kota", "kementerian", "lembaga", "unit")
REGIONAL_LEVELS = ("provinsi", "kabupaten", "kota")
CENTRAL_LEVELS = ("kementerian", "lembaga", "unit")
PARENT_LEVELS = ("kementerian", "lembaga")
CONNECTOR_KINDS = ("http", "sql", "file")
CENTRAL_TIMEZONE = "Asia/Jakarta"

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SQL_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")

#: options each connector kind understands; the sql ones marked True become SQL identifiers
#: (they mirror what complaints.connectors reads; tests/unit/test_registry_options.py checks it)
_RETRY = {"max_attempts": False, "retry_base_delay": False, "batch_rows": False}
CONNECTOR_OPTIONS: dict[str, dict[str, bool]] = {
    "http": {
        "path": False, "page_size": False, "connect_timeout": False, "read_timeout": False,
        "retry_max_delay": False, "retry_after_max": False, "updated_field": False, **_RETRY,
    },
    "sql": {
        "table": True, "filter_column": True, "updated_column": True, "schema": True,
        "chunk_size": False, "updated_is": False, "bounds_as": False, **_RETRY,
    },
    "file": {
        "pattern": False, "encoding": False, "delimiter": False, "sheet": False,
        "updated_column": False, "updated_is": False, "batch_rows": False,
    },
}  # fmt: skip
SQL_DEFAULTS = {"table": "aduan", "filter_column": "kode_satker", "updated_column": "tgl_update"}

#: timestamp format names understood besides strptime patterns (anything containing '%')
NAMED_TIME_FORMATS = ("iso8601", "epoch", "epoch_ms", "id_long")
#: canonical fields whose values must come from a vocabulary
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "status": canonical.STATUSES,
    "classification": canonical.CLASSIFICATIONS,
    "channel": canonical.CHANNELS,
}
BOOLEAN_FIELDS = tuple(
    name
    for name, typ, _ in canonical.FIELDS
    if str(typ) == "bool" and name in canonical.MAPPABLE_FIELDS
)


def _one_of(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return value


class Connector(BaseModel):
    """How a source is read: the connector kind, its Airflow connection id and options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    conn_id: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        return _one_of(value, CONNECTOR_KINDS)

    @field_validator("options", mode="before")
    @classmethod
    def _none_options(cls, value: Any) -> Any:
        return {} if value is None else value

    @model_validator(mode="after")
    def _check(self) -> Connector:
        if self.kind in ("http", "sql") and not self.conn_id:
            raise ValueError(f"a {self.kind} connector needs a conn_id")
        known = CONNECTOR_OPTIONS[self.kind]
        unknown = sorted(set(self.options) - set(known))
        if unknown and self.kind != "file":
            raise ValueError(
                f"unknown {self.kind} option(s) {', '.join(unknown)}; known: {', '.join(known)}"
            )
        for name, is_identifier in known.items():
            value = self.options.get(name)
            if value is None:
                continue
            if is_identifier and not (isinstance(value, str) and SQL_IDENTIFIER_RE.match(value)):
                raise ValueError(
                    f"options.{name} {value!r} is not a valid SQL identifier "
                    f"(^[A-Za-z_][A-Za-z0-9_]{{0,62}}$)"
                )
            if name in ("page_size", "chunk_size") and not (
                isinstance(value, int) and not isinstance(value, bool) and value > 0
            ):
                raise ValueError(f"options.{name} must be a positive integer, not {value!r}")
        return self

    def option(self, name: str) -> Any:
        """An option's value, or its documented default (sql: table/filter/updated column)."""
        if name in self.options:
            return self.options[name]
        return SQL_DEFAULTS.get(name) if self.kind == "sql" else None


class Source(BaseModel):
    """One institution that sends complaints, and how to read it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = Field(min_length=1)
    level: str
    parent: str | None = None
    region_code: str | None = None
    province_code: str | None = None  # derived from regions.csv by the loader
    timezone: str
    population: int | None = None  # derived from regions.csv by the loader
    owner_email: str
    connector: Connector
    mapping: str
    quarantine_threshold: float | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not ID_RE.match(value):
            raise ValueError(f"{value!r} must match [a-z0-9-]+ (lower case, digits, dashes)")
        return value

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        return _one_of(value, LEVELS)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _one_of(value, canonical.TIMEZONES)

    @field_validator("region_code", mode="before")
    @classmethod
    def _region_code(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError(f'must be quoted text (e.g. "31.71"), not {value!r}')
        return value

    @field_validator("owner_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not EMAIL_RE.match(value):
            raise ValueError(f"{value!r} is not a valid e-mail address")
        return value

    @field_validator("quarantine_threshold")
    @classmethod
    def _threshold(cls, value: float | None) -> float | None:
        if value is not None and not 0 <= value <= 1:
            raise ValueError(f"{value} must be between 0 and 1")
        return value

    @model_validator(mode="after")
    def _level_rules(self) -> Source:
        if self.level == "unit" and not self.parent:
            raise ValueError("parent is required for a unit (the id of its kementerian/lembaga)")
        if self.level != "unit" and self.parent:
            raise ValueError(f"parent is only allowed for a unit, not a {self.level}")
        if self.level in REGIONAL_LEVELS and not self.region_code:
            raise ValueError(f"region_code is required for a {self.level}")
        if self.level in CENTRAL_LEVELS:
            if self.region_code:
                raise ValueError(f"region_code must be null for a {self.level} (central)")
            if self.timezone != CENTRAL_TIMEZONE:
                raise ValueError(
                    f"timezone {self.timezone!r}: central institutions use {CENTRAL_TIMEZONE}"
                )
        return self

    @property
    def is_regional(self) -> bool:
        return self.level in REGIONAL_LEVELS

    @property
    def institution_id(self) -> str:
        return self.id


class TimestampSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    formats: list[str] = Field(min_length=1)
    naive_is: Literal["local", "utc"] = "local"

    @field_validator("formats")
    @classmethod
    def _formats(cls, value: list[str]) -> list[str]:
        for fmt in value:
            if fmt not in NAMED_TIME_FORMATS and "%" not in fmt:
                raise ValueError(
                    f"{fmt!r} is neither one of {', '.join(NAMED_TIME_FORMATS)} "
                    "nor a strptime pattern"
                )
        return value


class Mapping(BaseModel):
    """A declarative map from one export layout to the canonical record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    description: str = ""
    columns: dict[str, str | list[str]]
    timestamps: TimestampSpec
    booleans: dict[str, list[str]] = Field(
        default_factory=lambda: {"true": ["true", "1"], "false": ["false", "0"]}
    )
    values: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("booleans", "values", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        # YAML reads unquoted true/yes/1 as bool/int; the words are text here
        if not isinstance(value, dict):
            return value
        return {
            (str(k).lower() if isinstance(k, bool) else str(k)): (
                {str(kk).lower() if isinstance(kk, bool) else str(kk): vv for kk, vv in v.items()}
                if isinstance(v, dict)
                else [str(x).lower() if isinstance(x, bool) else str(x) for x in v]
                if isinstance(v, list)
                else v
            )
            for k, v in value.items()
        }

    @model_validator(mode="after")
    def _coverage(self) -> Mapping:
        problems = []
        unknown = [f for f in self.columns if f not in canonical.MAPPABLE_FIELDS]
        if unknown:
            problems.append(f"columns: unknown canonical field(s) {', '.join(unknown)}")
        missing = [f for f in canonical.MAPPING_REQUIRED if f not in self.columns]
        if missing:
            problems.append(f"columns: missing required field(s) {', '.join(missing)}")
        for field_name, names in self.columns.items():
            if (isinstance(names, list) and not names) or names == "":
                problems.append(f"columns.{field_name}: empty source column name")
        if set(self.booleans) != {"true", "false"}:
            problems.append("booleans: needs exactly the keys 'true' and 'false'")
        else:
            words = {w.strip().lower() for w in self.booleans["true"]}
            both = words & {w.strip().lower() for w in self.booleans["false"]}
            if both:
                problems.append(f"booleans: {', '.join(sorted(both))} mean both true and false")
        for field_name, table in self.values.items():
            if field_name not in canonical.MAPPABLE_FIELDS:
                problems.append(f"values.{field_name}: not a canonical field")
                continue
            vocab = VOCABULARIES.get(field_name)
            if vocab:
                for src, target in table.items():
                    if target not in vocab:
                        problems.append(
                            f"values.{field_name}: {src!r} maps to {target!r}, "
                            f"which is not one of {', '.join(vocab)}"
                        )
            lowered = [k.strip().lower() for k in table]
            dupes = sorted({k for k in lowered if lowered.count(k) > 1})
            if dupes:
                problems.append(
                    f"values.{field_name}: {', '.join(dupes)} listed twice (matching ignores case)"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def column_candidates(self, field_name: str) -> list[str]:
        """Source column names for a canonical field, in order of preference."""
        names = self.columns.get(field_name)
        if names is None:
            return []
        return [names] if isinstance(names, str) else list(names)
