"""Settings from the environment: one switch between the embedded default and a deployment.

``COMPLAINTS_ENV=local`` (the default) keeps everything under the project's ``var/``
folder: warehouse, outbox, simulated sources, the local hashing key. ``deploy``
requires every location and secret to be given explicitly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = PROJECT_ROOT / "include"
SQL_DIR = INCLUDE_DIR / "sql"
REFERENCE_REGIONS = INCLUDE_DIR / "reference" / "regions.csv"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def _path(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    env: str
    data_dir: Path
    warehouse: str
    outbox: Path
    registry: Path
    sources_dir: Path
    cuti_bersama_is_holiday: bool = True
    rating_prior_weight: float = 10.0
    quarantine_threshold: float = 0.05
    #: processes rendering report PDFs (1 where the task may not start processes, e.g. Celery)
    report_workers: int = 1
    #: days of GX validation results (and Data Docs pages) kept, by the results' day; 0 keeps all
    gx_keep_days: int = 14
    extra: dict = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        return self.env == "local"

    @property
    def drop_dir(self) -> Path:
        return self.sources_dir / "drop"

    @property
    def sim_sql_url(self) -> str:
        return os.environ.get(
            "COMPLAINTS_SIM_SQL_URL", f"sqlite:///{self.sources_dir / 'regional.sqlite'}"
        )

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get("COMPLAINTS_ENV", "local")
        if env not in ("local", "deploy"):
            raise ConfigError(f"COMPLAINTS_ENV must be 'local' or 'deploy', not {env!r}")
        data_dir = _path("COMPLAINTS_DATA_DIR", PROJECT_ROOT / "var")
        if env == "deploy":
            missing = [
                name
                for name in ("COMPLAINTS_DATA_DIR", "COMPLAINTS_WAREHOUSE")
                if not os.environ.get(name)
            ]
            if missing:
                raise ConfigError(
                    "COMPLAINTS_ENV=deploy needs " + ", ".join(missing) + " to be set"
                )
        return cls(
            env=env,
            data_dir=data_dir,
            warehouse=os.environ.get("COMPLAINTS_WAREHOUSE", str(data_dir / "warehouse")),
            outbox=_path("COMPLAINTS_OUTBOX", data_dir / "outbox"),
            registry=_path("COMPLAINTS_REGISTRY", INCLUDE_DIR / "registry" / "sources.yaml"),
            sources_dir=_path("COMPLAINTS_SOURCES_DIR", data_dir / "sources"),
            cuti_bersama_is_holiday=os.environ.get("COMPLAINTS_CUTI_BERSAMA", "1") != "0",
            rating_prior_weight=float(os.environ.get("COMPLAINTS_RATING_PRIOR", "10")),
            quarantine_threshold=float(os.environ.get("COMPLAINTS_QUARANTINE_THRESHOLD", "0.05")),
            report_workers=max(1, int(os.environ.get("COMPLAINTS_REPORT_WORKERS", "1"))),
            gx_keep_days=max(0, int(os.environ.get("COMPLAINTS_GX_KEEP_DAYS", "14"))),
        )
