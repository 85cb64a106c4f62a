"""The regional complaint database the sql sources read: one append-only table ``aduan``.

One row per complaint version (a change log), filtered by ``kode_satker`` (the source id) and
``tgl_update`` (naive local time). SQLite stores timestamps as text 'YYYY-MM-DD HH:MM:SS' (what
a SIMPEL-style export holds); PostgreSQL and MariaDB get TIMESTAMP/DATETIME columns. Writing a
source's days deletes the rows of those days first, so re-running a range is idempotent.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from complaints.simulate.exports import COLUMNS, FLAGS, TIMESTAMPS

TABLE = "aduan"
_TEXT_LENGTHS = {
    "no_tiket": 64,
    "kode_wilayah": 16,
    "jenis": 32,
    "kategori": 64,
    "kanal": 32,
    "status": 32,
    "nik_pelapor": 32,
    "nama_pelapor": 128,
    "telp_pelapor": 32,
    "email_pelapor": 128,
    "judul": 255,
}


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``; a SQLite file's folder is created."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return sa.create_engine(url, connect_args={"timeout": 60})
    return sa.create_engine(url, pool_pre_ping=True)


def aduan_table(metadata: sa.MetaData, dialect: str, name: str = TABLE) -> sa.Table:
    """The ``aduan`` layout for ``dialect`` (sqlite stores timestamps as text)."""
    names = COLUMNS["simpel_db"]
    flags = {names[c] for c in FLAGS}
    stamps = {names[c] for c in TIMESTAMPS}
    stamp_type = sa.String(19) if dialect == "sqlite" else sa.DateTime()
    columns = [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kode_satker", sa.String(64), nullable=False),
    ]
    for column in names.values():
        if column in flags:
            kind = sa.SmallInteger()
        elif column in stamps:
            kind = stamp_type
        elif column == "penilaian":
            kind = sa.Integer()
        elif column == "isi":
            kind = sa.Text()
        else:
            kind = sa.String(_TEXT_LENGTHS.get(column, 255))
        columns.append(sa.Column(column, kind))
    return sa.Table(
        name, metadata, *columns, sa.Index(f"ix_{name}_satker_update", "kode_satker", "tgl_update")
    )


class SqlStore:
    """Writes versions into ``aduan`` at ``url``; one transaction per source."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        self.table = aduan_table(sa.MetaData(), self.dialect)
        self.table.metadata.create_all(self.engine, checkfirst=True)

    @property
    def text_timestamps(self) -> bool:
        return self.dialect == "sqlite"

    def _bound(self, day: dt.date):
        moment = dt.datetime.combine(day, dt.time())
        return moment.strftime("%Y-%m-%d %H:%M:%S") if self.text_timestamps else moment

    def replace(self, source_id: str, start: dt.date, end: dt.date, rows: list[dict]) -> int:
        """Delete the source's rows updated in [start, end] (local days), insert ``rows``."""
        t = self.table
        with self.engine.begin() as conn:
            conn.execute(
                t.delete().where(
                    t.c.kode_satker == source_id,
                    t.c.tgl_update >= self._bound(start),
                    t.c.tgl_update < self._bound(end + dt.timedelta(days=1)),
                )
            )
            if rows:
                conn.execute(t.insert(), rows)
        return len(rows)

    def dispose(self) -> None:
        self.engine.dispose()
