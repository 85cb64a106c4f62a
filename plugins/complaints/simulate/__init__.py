"""Realistic source data for the embedded default: the sources the pipeline reads.

``simulate(settings, sources, start, end)`` writes, for every local day in [start, end] and every
source, the complaint versions that source would export (``model``), in its connector's shape
(``exports``): rows of the ``aduan`` table for sql sources (``sqlstore``), files in the drop folder
for file sources (``files``), and versions in ``api.sqlite`` served by ``serve_api`` for http
sources (``api_server``). Re-running a range replaces exactly that range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from complaints.simulate.damage import BROKEN_KINDS

__all__ = ["BROKEN_KINDS", "SimulationSummary", "serve_api", "simulate"]


@dataclass
class SimulationSummary:
    """Per source and local day: versions written and broken rows planted, by kind."""

    rows: list[dict] = field(default_factory=list)

    def add(
        self, source_id: str, kind: str, day: dt.date, versions: int, broken: dict[str, int]
    ) -> None:
        row = {
            "source_id": source_id,
            "connector_kind": kind,
            "day": day,
            "versions": versions,
            "broken": sum(broken.values()),
        }
        row.update({k: int(broken.get(k, 0)) for k in BROKEN_KINDS})
        self.rows.append(row)

    def to_frame(self) -> pd.DataFrame:
        columns = ["source_id", "connector_kind", "day", "versions", "broken", *BROKEN_KINDS]
        return pd.DataFrame(self.rows, columns=columns)

    def broken(self, source_id: str, day: dt.date) -> dict[str, int]:
        """Planted broken rows of one source-day, by kind (zeros included)."""
        for row in self.rows:
            if row["source_id"] == source_id and row["day"] == day:
                return {k: row[k] for k in BROKEN_KINDS}
        raise KeyError(f"no simulated day {day} for {source_id!r}")

    @property
    def versions(self) -> int:
        return sum(row["versions"] for row in self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def _window_utc(timezone: str, start: dt.date, end: dt.date) -> tuple[str, str]:
    """[local midnight of start, local midnight after end) as stored UTC text."""
    from complaints.simulate.exports import utc_offset

    offset = utc_offset(timezone).to_pytimedelta()
    since = dt.datetime.combine(start, dt.time()) - offset
    before = dt.datetime.combine(end + dt.timedelta(days=1), dt.time()) - offset
    return since.strftime("%Y-%m-%dT%H:%M:%SZ"), before.strftime("%Y-%m-%dT%H:%M:%SZ")


def simulate(
    settings,
    sources: Iterable,
    start: dt.date,
    end: dt.date,
    *,
    seed: int = 42,
    broken_share: float = 0.01,
    sql_url: str | None = None,
    scale: float = 1.0,
    now: dt.datetime | None = None,
) -> SimulationSummary:
    """Write every source's versions for the local days [start, end]; idempotent per range.

    ``now`` (default: the clock) hides events that have not happened yet, so simulating today
    gives today's data so far. sql sources go to ``sql_url`` (default ``settings.sim_sql_url``);
    on PostgreSQL/MariaDB (typed columns) no unparseable dates or "lima" ratings are planted.
    """
    from complaints.simulate import exports, files, model
    from complaints.simulate.api_server import ApiStore, api_path
    from complaints.simulate.sqlstore import SqlStore

    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    now = now or dt.datetime.now(dt.UTC)
    summary = SimulationSummary()
    sql_store: SqlStore | None = None
    api_store: ApiStore | None = None
    days = _days(start, end)
    try:
        for source in sources:
            kind = source.connector.kind
            if kind == "sql" and sql_store is None:
                sql_store = SqlStore(sql_url or settings.sim_sql_url)
            text_values = kind != "sql" or sql_store.text_timestamps
            frame = model.versions(
                source,
                start,
                end,
                seed=seed,
                broken_share=broken_share,
                text_values=text_values,
                scale=scale,
                now=now,
            )
            if kind == "sql":
                rows = exports.render_sql(frame, source.id, text_timestamps=text_values)
                sql_store.replace(source.id, start, end, rows)
            elif kind == "http":
                api_store = api_store or ApiStore(api_path(settings))
                since, before = _window_utc(source.timezone, start, end)
                api_store.replace(
                    source.id, since, before, exports.render_api(frame, source.timezone)
                )
            elif kind == "file":
                fmt = files.file_format(source)
                for day in days:
                    part = frame[frame["local_day"] == day]
                    table = exports.render_file(part, fmt.date_style)
                    files.write_day(settings.drop_dir, source.id, day, table, fmt)
            else:
                raise ValueError(f"{source.id}: unknown connector kind {kind!r}")
            counts = frame.groupby(["local_day", "broken"]).size()
            for day in days:
                per_day = counts.get(day, pd.Series(dtype=int)).to_dict() if len(counts) else {}
                total = sum(per_day.values())
                planted = {k: v for k, v in per_day.items() if k}
                summary.add(source.id, kind, day, total, planted)
    finally:
        if sql_store is not None:
            sql_store.dispose()
    return summary


def serve_api(*args, **kwargs):
    """See :func:`complaints.simulate.api_server.serve_api`."""
    from complaints.simulate.api_server import serve_api as _serve

    return _serve(*args, **kwargs)
