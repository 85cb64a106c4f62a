"""Connections resolved at run time, the way Airflow resolves them.

Inside an Airflow task the connection comes from Airflow (secrets backends, metadata DB,
``AIRFLOW_CONN_*``). Outside Airflow (tests, the CLI) the same ``AIRFLOW_CONN_<ID>``
environment variables are read directly, as a URI or as Airflow's JSON form. Secrets are
never logged: ``Conn.__repr__`` hides the password.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit


class ConnectionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Conn:
    conn_id: str
    conn_type: str = ""
    host: str = ""
    port: int | None = None
    login: str = ""
    password: str = field(default="", repr=False)
    schema: str = ""
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:  # never show the password
        return (
            f"Conn(conn_id={self.conn_id!r}, conn_type={self.conn_type!r}, host={self.host!r}, "
            f"port={self.port!r}, login={self.login!r}, schema={self.schema!r})"
        )

    @property
    def base_url(self) -> str:
        """http(s)://host[:port][/schema] for HTTP connections."""
        scheme = self.extra.get("scheme") or ("https" if self.conn_type == "https" else "http")
        host = self.host
        if "://" in host:
            return host.rstrip("/")
        port = f":{self.port}" if self.port else ""
        path = f"/{self.schema}" if self.schema else ""
        return f"{scheme}://{host}{port}{path}"

    @property
    def sqlalchemy_url(self) -> str:
        """A SQLAlchemy URL; ``extra.sqlalchemy_url`` wins when given."""
        if self.extra.get("sqlalchemy_url"):
            return self.extra["sqlalchemy_url"]
        driver = {
            "postgres": "postgresql+psycopg2",
            "postgresql": "postgresql+psycopg2",
            "mysql": "mysql+pymysql",
            "mariadb": "mysql+pymysql",
            "sqlite": "sqlite",
        }.get(self.conn_type, self.conn_type)
        if driver == "sqlite":
            return f"sqlite:///{self.host or self.schema}"
        auth = ""
        if self.login:
            auth = quote(self.login, safe="")
            if self.password:
                auth += ":" + quote(self.password, safe="")
            auth += "@"
        port = f":{self.port}" if self.port else ""
        return f"{driver}://{auth}{self.host}{port}/{self.schema}"


def parse_uri(conn_id: str, uri: str) -> Conn:
    """Parse Airflow's connection URI (``type://login:password@host:port/schema?extra``)."""
    uri = uri.strip()
    if uri.startswith("{"):
        data = json.loads(uri)
        extra = data.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra) if extra else {}
        return Conn(
            conn_id=conn_id,
            conn_type=data.get("conn_type", ""),
            host=data.get("host") or "",
            port=data.get("port"),
            login=data.get("login") or "",
            password=data.get("password") or "",
            schema=data.get("schema") or "",
            extra=extra,
        )
    parts = urlsplit(uri)
    conn_type = parts.scheme.replace("-", "_")
    if conn_type == "sqlite":
        # sqlite:////abs/path.db -> host holds the path
        rest = uri.split("://", 1)[1]
        path = rest[1:] if rest.startswith("/") else rest
        return Conn(conn_id=conn_id, conn_type="sqlite", host=unquote(path.split("?", 1)[0]))
    extra = dict(parse_qsl(parts.query))
    if "__extra__" in extra:
        extra = json.loads(extra["__extra__"])
    return Conn(
        conn_id=conn_id,
        conn_type=conn_type,
        host=unquote(parts.hostname or ""),
        port=parts.port,
        login=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        schema=unquote(parts.path.lstrip("/")),
        extra=extra,
    )


def _from_airflow(conn_id: str) -> Conn | None:
    """Ask Airflow, only when running inside a task (the package never needs Airflow)."""
    if not os.environ.get("AIRFLOW_CTX_DAG_ID"):
        return None
    try:
        from airflow.sdk import Connection  # noqa: PLC0415
    except ImportError:
        return None
    try:
        c = Connection.get(conn_id)
    except Exception:  # not defined in Airflow: fall back to the environment
        return None
    return Conn(
        conn_id=conn_id,
        conn_type=c.conn_type or "",
        host=c.host or "",
        port=c.port,
        login=c.login or "",
        password=c.password or "",
        schema=c.schema or "",
        extra=c.extra_dejson or {},
    )


def get_connection(conn_id: str) -> Conn:
    """The connection, its password registered with the log redaction (never logged)."""
    from complaints.privacy import register_secret

    conn = _from_airflow(conn_id)
    if conn is None:
        uri = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
        if not uri:
            raise ConnectionNotFound(
                f"connection {conn_id!r} is not defined: set AIRFLOW_CONN_{conn_id.upper()} "
                "or add it to Airflow"
            )
        conn = parse_uri(conn_id, uri)
    register_secret(conn.password)
    return conn
