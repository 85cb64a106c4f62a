"""simulate() into the real PostgreSQL and MariaDB of this machine (and SQLite): the aduan table."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from service_check import drop_database, require_service

from complaints.simulate import simulate

DAY1, DAY2 = dt.date(2026, 10, 29), dt.date(2026, 10, 30)
SOURCES = [
    SimpleNamespace(
        id=sid,
        level="kabupaten",
        region_code=rc,
        timezone=tz,
        population=pop,
        connector=SimpleNamespace(kind="sql", options={}),
    )
    for sid, rc, tz, pop in (
        ("kab-3201", "32.01", "Asia/Jakarta", 900_000),
        ("kota-7371", "73.71", "Asia/Makassar", 1_400_000),
    )
]


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def database(request, tmp_path):
    """A fresh, empty database; yields (kind, SQLAlchemy URL)."""
    kind = request.param
    name = f"sim_{uuid.uuid4().hex[:10]}"
    admin = None
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'regional.sqlite'}"
    elif kind == "postgres":
        host, port = require_service("postgres")
        admin = sa.create_engine(
            f"postgresql+psycopg2://postgres@{host}:{port}/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = f"postgresql+psycopg2://postgres@{host}:{port}/{name}"
    else:
        host, port = require_service("mariadb")
        admin = sa.create_engine(f"mysql+pymysql://root@{host}:{port}/")
        with admin.connect() as c:
            c.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        url = f"mysql+pymysql://root@{host}:{port}/{name}?charset=utf8mb4"
    yield kind, url
    if admin is not None:
        drop_database(admin, kind, name)


def _rows(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return [
                tuple(r)
                for r in c.execute(
                    sa.text(
                        "SELECT kode_satker, no_tiket, status, penilaian, rahasia, tgl_lapor, "
                        "tgl_update FROM aduan ORDER BY kode_satker, tgl_update, no_tiket, status"
                    )
                )
            ]
    finally:
        engine.dispose()


def test_simulate_writes_the_change_log_idempotently(database, settings):
    kind, url = database
    summary = simulate(
        settings, SOURCES, DAY1, DAY2, seed=11, scale=0.3, broken_share=0.05, sql_url=url
    )
    rows = _rows(url)
    frame = summary.to_frame()
    assert len(rows) == frame["versions"].sum() > 0
    for source in SOURCES:
        mine = [r for r in rows if r[0] == source.id]
        assert len(mine) == frame.query("source_id == @source.id")["versions"].sum()
    if kind == "sqlite":
        assert all(isinstance(r[6], str) and len(r[6]) == 19 for r in rows)
    else:
        assert all(isinstance(r[6], dt.datetime) for r in rows)
        assert frame["bad_date"].sum() == 0  # typed columns: no unparseable dates
        assert all(r[3] is None or isinstance(r[3], int) for r in rows)
    assert {r[4] for r in rows} <= {0, 1}
    assert {
        r[6].date() if not isinstance(r[6], str) else dt.date.fromisoformat(r[6][:10]) for r in rows
    } == {DAY1, DAY2}
    # a complaint comes back on a later day with a new status
    by_id: dict[str, set] = {}
    for r in rows:
        if r[1]:
            by_id.setdefault(r[1], set()).add(r[2])
    assert any(len(statuses) > 1 for statuses in by_id.values())

    # re-running the range, or one day of it, replaces instead of appending
    simulate(settings, SOURCES, DAY1, DAY2, seed=11, scale=0.3, broken_share=0.05, sql_url=url)
    simulate(settings, SOURCES[:1], DAY2, DAY2, seed=11, scale=0.3, broken_share=0.05, sql_url=url)
    assert _rows(url) == rows


def test_planted_missing_ids_are_null_rows(database, settings):
    _kind, url = database
    summary = simulate(
        settings, SOURCES[:1], DAY1, DAY1, seed=2, scale=0.5, broken_share=0.2, sql_url=url
    )
    planted = summary.broken("kab-3201", DAY1)
    rows = _rows(url)
    assert sum(1 for r in rows if r[1] is None) == planted["missing_id"]
    assert sum(planted.values()) > 0
