"""The regional-database connector: one shared table filtered by the source's id.

Reads ``SELECT * FROM <table> WHERE <filter_column> = :source_id AND <updated_column> >= :start
AND <updated_column> < :end ORDER BY <updated_column>, 1`` in chunks over a server-side cursor.
Identifiers come from the registry and are checked against ``IDENTIFIER`` and quoted by the
dialect; every value is a bound parameter.

Options: ``table`` (``aduan``), ``schema`` (none), ``filter_column`` (``kode_satker``),
``updated_column`` (``tgl_update``), ``chunk_size`` (50,000 rows per batch), ``updated_is``
(``local``: the column holds naive local times in the source's time zone, so the window's bounds
are turned into naive local times; ``utc``: naive UTC times), ``bounds_as`` (``auto``: strings
``YYYY-MM-DD HH:MM:SS`` on SQLite, where date-times are text, compared with the column's text
with a "T" read as a space; datetimes elsewhere; or ``string`` / ``datetime``),
``max_attempts`` (3: a failure before the first batch is retried, later ones are not, so no row
is read twice). A column that stores instants rather than wall-clock times
(PostgreSQL's ``TIMESTAMP WITH TIME ZONE``, MySQL/MariaDB's ``TIMESTAMP``, found from the table's
definition) is compared with the window's instants whatever ``updated_is`` says: naive bounds
would be read in the database session's time zone, and the day would shift by its offset.

The window decides what is read (never the stored cursor), so a rerun reads the same rows;
``max_updated`` reports the largest updated value seen, as ISO 8601 UTC.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from complaints.connections import ConnectionNotFound, get_connection
from complaints.connectors.base import Connector, UpdatedTracker, Window, rows_to_table

log = logging.getLogger(__name__)

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _short(exc: BaseException) -> str:
    """The driver's message without the SQL statement and parameters SQLAlchemy appends."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(orig).__name__}: {first[:300]}"


class SqlConnector(Connector):
    kind = "sql"

    def __init__(self, source, settings):
        super().__init__(source, settings)
        conn_id = getattr(source.connector, "conn_id", None)
        if not conn_id:
            raise self.error("sql connector needs a conn_id")
        try:
            conn = get_connection(conn_id)
        except ConnectionNotFound as exc:
            raise self.error(str(exc)) from None
        self.conn_id = conn_id
        self.table_name = self._identifier("table", "aduan")
        self.schema = self._identifier("schema", None)
        self.filter_column = self._identifier("filter_column", "kode_satker")
        self.updated_column = self._identifier("updated_column", "tgl_update")
        self.chunk_size = self.opt_number("chunk_size", 50_000, minimum=1, integer=True)
        self.updated_is = self.opt_choice("updated_is", "local", ("local", "utc"))
        self.bounds_as = self.opt_choice("bounds_as", "auto", ("auto", "string", "datetime"))
        self.max_attempts = self.opt_number("max_attempts", 3, minimum=1, integer=True)
        self.retry_delay = self.opt_number("retry_base_delay", 1.0)
        try:
            self.url = sa.make_url(conn.sqlalchemy_url)
        except ArgumentError:
            raise self.error(
                f"connection {conn_id!r} does not give a valid SQLAlchemy URL"
            ) from None
        self._engine: sa.Engine | None = None

    def _identifier(self, name: str, default: str | None) -> str | None:
        value = self.options.get(name, default)
        if value is None:
            return None
        if not isinstance(value, str) or not IDENTIFIER.match(value):
            raise self.error(
                f"option {name} {value!r} is not a plain identifier "
                "(letters, digits, underscore; at most 63 characters)"
            )
        return value

    def describe(self) -> str:
        where = f"{self.schema}.{self.table_name}" if self.schema else self.table_name
        return (
            f"sql {self.url.render_as_string(hide_password=True)} table {where} "
            f"where {self.filter_column} = {self.source_id!r}, by {self.updated_column} "
            f"({self.updated_is}), {self.chunk_size} rows per batch"
        )

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            try:
                self._engine = sa.create_engine(self.url, pool_pre_ping=True)
            except (NoSuchModuleError, ArgumentError, ImportError) as exc:
                raise self.error(f"cannot open connection {self.conn_id!r}: {exc}") from None
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def stores_instants(self) -> bool:
        """Whether the updated column holds instants (see the module's docstring); False when
        the table's definition cannot be read (the query's own error then says why)."""
        backend = self.url.get_backend_name()
        if backend not in ("postgresql", "mysql", "mariadb"):
            return False
        try:
            columns = sa.inspect(self.engine).get_columns(self.table_name, schema=self.schema)
        except SQLAlchemyError:
            return False
        for column in columns:
            if column["name"].lower() == self.updated_column.lower():
                kind = column["type"]
                if backend == "postgresql":
                    return isinstance(kind, sa.DateTime) and bool(kind.timezone)
                return type(kind).__name__ == "TIMESTAMP"
        return False

    def statement(self, window: Window, instants: bool = False) -> sa.Select:
        """The query for a window, with the bounds as bound parameters."""
        if instants:
            start, end = window.start, window.end
        elif self.updated_is == "local":
            start, end = window.local_bounds()
        else:
            start = window.start.replace(tzinfo=None)
            end = window.end.replace(tzinfo=None)
        as_string = self.bounds_as == "string" or (
            self.bounds_as == "auto" and self.url.get_backend_name() == "sqlite"
        )
        table, of_source = self._table()
        compared: sa.ColumnElement = table.c[self.updated_column]
        bounds: list[datetime | str] = [start, end]
        in_session_zone = instants and self.url.get_backend_name() != "postgresql"
        if in_session_zone:
            # MySQL/MariaDB compare a TIMESTAMP in the session's time zone: the window's UTC
            # bounds are converted to it on the server (below)
            bounds = [b.astimezone(UTC).replace(tzinfo=None) for b in (start, end)]
        elif as_string and not instants:
            bounds = [b.strftime("%Y-%m-%d %H:%M:%S") for b in (start, end)]
            # text compared as text: ISO 8601's "T" sorts after the bounds' space, so
            # "2026-10-05T10:00" would fall after every bound of its day
            compared = sa.func.replace(compared, "T", " ")
        lo, hi = sa.bindparam("window_start", bounds[0]), sa.bindparam("window_end", bounds[1])
        if in_session_zone:
            session_zone = sa.text("@@session.time_zone")
            lo, hi = (sa.func.convert_tz(b, "+00:00", session_zone) for b in (lo, hi))
        return (
            sa.select(sa.text("*"))
            .select_from(table)
            .where(of_source, compared >= lo, compared < hi)
            .order_by(compared, sa.text("1"))
        )

    def _table(self) -> tuple[sa.TableClause, sa.ColumnElement]:
        """The source table and the condition that selects this source's rows."""
        table = sa.table(
            self.table_name,
            sa.column(self.filter_column),
            sa.column(self.updated_column),
            schema=self.schema,
        )
        return table, table.c[self.filter_column] == sa.bindparam("source_id", self.source_id)

    def read(self, window: Window) -> Iterator[pa.Table]:
        self.notes = []
        self.max_updated = None
        tracker = UpdatedTracker(window.tz, naive_is=self.updated_is)
        stmt = self.statement(window, instants=self.stores_instants())
        yielded = False
        attempt = 0
        while True:
            attempt += 1
            try:
                for batch, updated in self._stream(stmt):
                    tracker.observe(updated)
                    yielded = True
                    yield batch
                break
            except SQLAlchemyError as exc:
                if yielded or attempt >= self.max_attempts or not self._transient(exc):
                    tried = f" after {attempt} attempts" if attempt > 1 else ""
                    raise self.error(f"query failed{tried}: {_short(exc)}") from None
                log.warning(
                    "source %s: attempt %d of %d failed (%s); retrying",
                    self.source_id,
                    attempt,
                    self.max_attempts,
                    _short(exc),
                )
                self.close()
                time.sleep(self.retry_delay * 2 ** (attempt - 1))
        self.max_updated = tracker.value
        self._note_undated()

    def _note_undated(self) -> None:
        """Rows without an updated value fall in no day's window: say how many there are."""
        table, of_source = self._table()
        stmt = (
            sa.select(sa.func.count())
            .select_from(table)
            .where(of_source, table.c[self.updated_column].is_(None))
        )
        try:
            with self.engine.connect() as connection:
                undated = connection.execute(stmt).scalar() or 0
        except SQLAlchemyError as exc:
            log.warning("source %s: could not count undated rows: %s", self.source_id, _short(exc))
            return
        if undated:
            self.notes.append(
                f"{undated} rows have no {self.updated_column} and are read on no day"
            )

    @staticmethod
    def _transient(exc: SQLAlchemyError) -> bool:
        return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError) or bool(
            getattr(exc, "connection_invalidated", False)
        )

    def _stream(self, stmt: sa.Select) -> Iterator[tuple[pa.Table, list]]:
        with self.engine.connect() as connection:
            result = connection.execution_options(
                stream_results=True, yield_per=self.chunk_size
            ).execute(stmt)
            columns = list(result.keys())
            index = self._updated_index(columns)
            for rows in result.partitions(self.chunk_size):
                rows = [tuple(r) for r in rows]
                yield rows_to_table(columns, rows), [r[index] for r in rows]

    def _updated_index(self, columns: list[str]) -> int:
        if self.updated_column in columns:
            return columns.index(self.updated_column)
        lowered = [c.lower() for c in columns]
        if self.updated_column.lower() in lowered:
            return lowered.index(self.updated_column.lower())
        raise self.error(f"column {self.updated_column!r} is not in the result")  # pragma: no cover
