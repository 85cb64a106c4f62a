"""The sql connector on SQLite, and on the real PostgreSQL and MariaDB of this machine."""

from __future__ import annotations

import json
import socket
import uuid
from datetime import UTC, date
from types import SimpleNamespace as NS

import pytest
import sqlalchemy as sa
from service_check import drop_database, require_service

from complaints.connectors import SourceError, Window, open_connector

DAY = date(2026, 10, 5)
WINDOW = Window.for_day(DAY, "Asia/Jakarta")

# (no_tiket, kode_satker, judul, penilaian, tgl_update as naive local WIB)
IN_WINDOW = [
    ("T01", "kab-1", "Jalan rusak – café", 4, "2026-10-05 00:00:00"),
    ("T03", "kab-1", "Lampu mati", None, "2026-10-05 06:30:00"),
    ("T02", "kab-1", "Sampah", 5, "2026-10-05 06:30:00"),
    ("T04", "kab-1", "x'); DROP TABLE aduan; --", 1, "2026-10-05 08:00:00"),
    ("T05", "kab-1", "Air", 3, "2026-10-05 09:15:00"),
    ("T06", "kab-1", "Banjir", 2, "2026-10-05 12:00:00"),
    ("T07", "kab-1", "Pungli", 4, "2026-10-05 16:59:59"),
    ("T08", "kab-1", "Izin", 4, "2026-10-05 17:00:00"),
    ("T09", "kab-1", "KTP", 5, "2026-10-05 21:00:00"),
    ("T10", "kab-1", "Puskesmas", 3, "2026-10-05 23:59:59"),
]
OUTSIDE = [
    ("T00", "kab-1", "kemarin", 1, "2026-10-04 23:59:59"),
    ("T11", "kab-1", "besok", 1, "2026-10-06 00:00:00"),
    ("K01", "kab-2", "lain", 1, "2026-10-05 10:00:00"),
]
EXPECTED_ORDER = ["T01", "T02", "T03", "T04", "T05", "T06", "T07", "T08", "T09", "T10"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def database(request, tmp_path, monkeypatch):
    """A fresh database holding the ``aduan`` table; yields (kind, SQLAlchemy URL)."""
    kind = request.param
    name = f"complaints_conn_{uuid.uuid4().hex[:10]}"
    admin = None
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'regional.sqlite'}"
        conn_def = json.dumps({"conn_type": "sqlite", "extra": {"sqlalchemy_url": url}})
        ts_type = "TEXT"
    elif kind == "postgres":
        host, port = require_service("postgres")
        admin = sa.create_engine(
            f"postgresql+psycopg2://postgres@{host}:{port}/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = f"postgresql+psycopg2://postgres@{host}:{port}/{name}"
        conn_def = f"postgresql://postgres@{host}:{port}/{name}"
        ts_type = "TIMESTAMP"
    else:
        host, port = require_service("mariadb")
        admin = sa.create_engine(f"mysql+pymysql://root@{host}:{port}/")
        with admin.connect() as c:
            c.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        url = f"mysql+pymysql://root@{host}:{port}/{name}?charset=utf8mb4"
        conn_def = json.dumps(
            {"conn_type": "mysql", "extra": {"sqlalchemy_url": url}, "password": ""}
        )
        ts_type = "DATETIME"
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(
            sa.text(
                "CREATE TABLE aduan (no_tiket VARCHAR(20), kode_satker VARCHAR(60), "
                f"judul VARCHAR(200), penilaian INTEGER, tgl_update {ts_type})"
            )
        )
        rows = [dict(zip(("t", "k", "j", "p", "u"), r, strict=True)) for r in IN_WINDOW + OUTSIDE]
        if kind != "sqlite":
            from datetime import datetime

            for r in rows:
                r["u"] = datetime.fromisoformat(r["u"])
        c.execute(sa.text("INSERT INTO aduan VALUES (:t, :k, :j, :p, :u)"), rows)
    engine.dispose()
    monkeypatch.setenv("AIRFLOW_CONN_REGIONAL_TEST", conn_def)
    yield kind, url
    if admin is not None:
        drop_database(admin, kind, name)


def source(source_id: str = "kab-1", **options) -> NS:
    return NS(
        id=source_id,
        timezone="Asia/Jakarta",
        connector=NS(kind="sql", conn_id="regional_test", options=options),
    )


def read(conn, window=WINDOW):
    try:
        return list(conn.read(window))
    finally:
        conn.close()


def test_rows_in_the_window_only_in_order_as_strings(database, settings):
    conn = open_connector(source(), settings)
    batches = read(conn)
    rows = [r for b in batches for r in b.to_pylist()]
    assert [r["no_tiket"] for r in rows] == EXPECTED_ORDER
    assert all(str(f.type) == "string" for b in batches for f in b.schema)
    assert rows[0] == {
        "no_tiket": "T01",
        "kode_satker": "kab-1",
        "judul": "Jalan rusak – café",
        "penilaian": "4",
        "tgl_update": "2026-10-05 00:00:00",
    }
    assert rows[2]["penilaian"] is None
    assert conn.max_updated == "2026-10-05T16:59:59Z"


def test_chunk_size_three_on_ten_rows_gives_four_batches(database, settings):
    conn = open_connector(source(chunk_size=3), settings)
    assert [b.num_rows for b in read(conn)] == [3, 3, 3, 1]


def test_updated_is_utc_shifts_the_window(database, settings):
    # the column read as naive UTC: the WIB day is 2026-10-04 17:00 .. 2026-10-05 17:00 UTC
    conn = open_connector(source(updated_is="utc"), settings)
    ids = [r["no_tiket"] for b in read(conn) for r in b.to_pylist()]
    assert ids == ["T00", "T01", "T02", "T03", "T04", "T05", "T06", "T07"]
    assert conn.max_updated == "2026-10-05T16:59:59Z"


@pytest.mark.parametrize(
    "evil", ["kab-1' OR '1'='1", "kab-1'; DROP TABLE aduan; --", 'kab-1" OR 1=1 --']
)
def test_injection_in_the_source_id_is_harmless(database, settings, evil):
    kind, url = database
    conn = open_connector(source(evil), settings)
    assert read(conn) == []
    engine = sa.create_engine(url)
    with engine.connect() as c:
        count = c.execute(sa.text("SELECT COUNT(*) FROM aduan")).scalar_one()
    engine.dispose()
    assert count == len(IN_WINDOW) + len(OUTSIDE)


@pytest.mark.parametrize(
    "option,value",
    [
        ("table", "aduan; DROP TABLE aduan"),
        ("table", "aduan--"),
        ("filter_column", "kode satker"),
        ("updated_column", '"tgl_update"'),
        ("schema", "public.x"),
        ("table", "a" * 64),
    ],
)
def test_bad_identifiers_are_rejected(settings, monkeypatch, option, value):
    monkeypatch.setenv("AIRFLOW_CONN_REGIONAL_TEST", "sqlite:////tmp/none.sqlite")
    with pytest.raises(SourceError, match=f"option {option}"):
        open_connector(source(**{option: value}), settings)


def test_missing_table_is_a_clear_error(database, settings):
    conn = open_connector(source(table="pengaduan"), settings)
    with pytest.raises(SourceError, match="query failed"):
        read(conn)


def test_unreachable_database_fails_after_retries_without_password(settings, monkeypatch):
    port = _free_port()
    monkeypatch.setenv(
        "AIRFLOW_CONN_REGIONAL_TEST", f"postgresql://reader:hunter2pw@127.0.0.1:{port}/db"
    )
    conn = open_connector(source(max_attempts=2, retry_base_delay=0.001), settings)
    assert "hunter2pw" not in conn.describe()
    with pytest.raises(SourceError, match="after 2 attempts: OperationalError") as info:
        read(conn)
    assert "hunter2pw" not in str(info.value)


@pytest.fixture(params=["postgres", "mariadb"])
def instants_table(request, monkeypatch):
    """An ``aduan`` table whose ``tgl_update`` stores instants (PostgreSQL TIMESTAMP WITH TIME
    ZONE, MariaDB TIMESTAMP), read by a session in New York time: neither UTC nor WIB."""
    from datetime import datetime, timedelta, timezone

    kind = request.param
    name = f"complaints_conn_{uuid.uuid4().hex[:10]}"
    host, port = require_service(kind)
    if kind == "postgres":
        admin = sa.create_engine(
            f"postgresql+psycopg2://postgres@{host}:{port}/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
            c.execute(sa.text(f"ALTER DATABASE \"{name}\" SET timezone TO 'America/New_York'"))
        url = f"postgresql+psycopg2://postgres@{host}:{port}/{name}"
        conn_def, ts_type = url.replace("+psycopg2", ""), "TIMESTAMP WITH TIME ZONE"
    else:
        admin = sa.create_engine(f"mysql+pymysql://root@{host}:{port}/")
        with admin.connect() as c:
            c.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        url = (
            f"mysql+pymysql://root@{host}:{port}/{name}?charset=utf8mb4"
            "&init_command=SET+time_zone%3D%27-04%3A00%27"
        )
        conn_def = json.dumps({"conn_type": "mysql", "extra": {"sqlalchemy_url": url}})
        ts_type = "TIMESTAMP NULL"
    wib = timezone(timedelta(hours=7))
    rows = {  # WIB wall-clock times of 5 Oct 2026 and either side of it
        "OUT-prev": datetime(2026, 10, 4, 23, 30, tzinfo=wib),
        "IN-early": datetime(2026, 10, 5, 0, 30, tzinfo=wib),
        "IN-late": datetime(2026, 10, 5, 23, 30, tzinfo=wib),
        "OUT-next": datetime(2026, 10, 6, 0, 30, tzinfo=wib),
    }
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text(f"CREATE TABLE aduan (no_tiket VARCHAR(20), kode_satker VARCHAR(60), "
                          f"tgl_update {ts_type})"))  # fmt: skip
        for ticket, moment in rows.items():
            # as UTC text with its offset, which both databases read as that instant
            value = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            if kind == "postgres":
                value += "+00"
            else:  # a TIMESTAMP literal is read in the session's zone: convert from UTC
                c.execute(sa.text("SET time_zone = '+00:00'"))
            c.execute(
                sa.text("INSERT INTO aduan VALUES (:t, 'kab-1', :u)"), {"t": ticket, "u": value}
            )
    engine.dispose()
    monkeypatch.setenv("AIRFLOW_CONN_REGIONAL_TEST", conn_def)
    yield kind
    drop_database(admin, kind, name)


@pytest.mark.service
@pytest.mark.parametrize("updated_is", ["local", "utc"])
def test_a_column_of_instants_is_read_by_the_days_instants(instants_table, settings, updated_is):
    """Naive bounds would be read in the session's time zone (New York here) and shift the day;
    the bounds are the window's instants whatever updated_is says."""
    conn = open_connector(source(updated_is=updated_is), settings)
    assert conn.stores_instants()
    ids = sorted(r["no_tiket"] for b in read(conn) for r in b.to_pylist())
    assert ids == ["IN-early", "IN-late"]


def test_rows_without_an_updated_value_are_counted_in_a_note(database, settings):
    _, url = database
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO aduan VALUES ('N1', 'kab-1', 'x', 1, NULL)"))
        c.execute(sa.text("INSERT INTO aduan VALUES ('N2', 'kab-2', 'x', 1, NULL)"))
    engine.dispose()
    conn = open_connector(source(), settings)
    ids = [r["no_tiket"] for b in read(conn) for r in b.to_pylist()]
    assert ids == EXPECTED_ORDER
    assert conn.notes == ["1 rows have no tgl_update and are read on no day"]


def test_sqlite_text_with_a_t_between_date_and_time_is_in_its_day(tmp_path, settings, monkeypatch):
    url = f"sqlite:///{tmp_path / 'iso.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text("CREATE TABLE aduan (no_tiket TEXT, kode_satker TEXT, tgl_update TEXT)"))
        for ticket, updated in [
            ("OUT-prev", "2026-10-04T23:59:59"),
            ("IN-T", "2026-10-05T10:00:00"),
            ("IN-space", "2026-10-05 11:00:00"),
            ("IN-last", "2026-10-05T23:59:59.500"),
            ("OUT-next", "2026-10-06T00:00:00"),
        ]:
            c.execute(
                sa.text("INSERT INTO aduan VALUES (:t, 'kab-1', :u)"), {"t": ticket, "u": updated}
            )
    engine.dispose()
    conn_def = json.dumps({"conn_type": "sqlite", "extra": {"sqlalchemy_url": url}})
    monkeypatch.setenv("AIRFLOW_CONN_REGIONAL_TEST", conn_def)
    conn = open_connector(source(), settings)
    ids = [r["no_tiket"] for b in read(conn) for r in b.to_pylist()]
    assert ids == ["IN-T", "IN-space", "IN-last"]
