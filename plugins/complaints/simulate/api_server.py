"""The simulated LAPOR! national API: versions in SQLite, served over HTTP on loopback.

``ApiStore`` keeps one row per complaint version (source_id, updated_at as UTC ISO with Z, JSON).
``serve_api`` answers ``GET /api/v1/sources/{source_id}/complaints`` with
``updated_since`` (inclusive), ``updated_before`` (exclusive), ``page`` (from 1) and ``per_page``
(default 500, at most 5000), ordered by ``updated_at``; the answer is
``{"data": [...], "page": n, "next_page": n + 1 | null}``. Every request needs
``Authorization: Bearer <token>`` (401 otherwise). Fault injection for orchestration tests:
``fail_rate`` answers that share of requests with 500, ``fail_sources`` always fail.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import sqlite3
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

API_FILE = "api.sqlite"
PATH_RE = re.compile(r"^/api/v1/sources/(?P<source_id>[A-Za-z0-9_.-]+)/complaints/?$")
MAX_PER_PAGE = 5000


def api_path(settings) -> Path:
    return Path(settings.sources_dir) / API_FILE


def iso_z(moment: dt.datetime) -> str:
    """UTC ISO 8601 with Z, seconds precision (the stored, sortable form)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> str:
    """A query timestamp (ISO 8601; Z, offset or naive UTC; or epoch seconds) -> stored form."""
    text = text.strip()
    if re.fullmatch(r"\d{9,11}(\.\d+)?", text):
        return iso_z(dt.datetime.fromtimestamp(float(text), dt.UTC))
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    return iso_z(moment)


class ApiStore:
    """SQLite file of API versions; writes replace a source's window (idempotent)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS versions ("
                " source_id TEXT NOT NULL, updated_at TEXT NOT NULL, json TEXT NOT NULL)"
            )
            conn.execute(
                "CREATE INDEX IF NOT EXISTS ix_versions_source_updated"
                " ON versions (source_id, updated_at)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60)

    def replace(
        self, source_id: str, since_utc: str, before_utc: str, rows: Iterable[tuple[str, str]]
    ) -> int:
        """Delete the source's versions in [since, before), insert (updated_at, json) rows."""
        rows = [(source_id, u, j) for u, j in rows]
        with self._connect() as conn:
            conn.execute(
                "DELETE FROM versions WHERE source_id = ? AND updated_at >= ? AND updated_at < ?",
                (source_id, since_utc, before_utc),
            )
            conn.executemany("INSERT INTO versions VALUES (?, ?, ?)", rows)
        return len(rows)

    def page(
        self, source_id: str, since: str | None, before: str | None, page: int, per_page: int
    ) -> tuple[list[dict], bool]:
        """(records of the page, whether another page follows)."""
        sql = "SELECT json FROM versions WHERE source_id = ?"
        params: list = [source_id]
        if since:
            sql += " AND updated_at >= ?"
            params.append(since)
        if before:
            sql += " AND updated_at < ?"
            params.append(before)
        sql += " ORDER BY updated_at, rowid LIMIT ? OFFSET ?"
        params += [per_page + 1, (page - 1) * per_page]
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=60)
        try:
            found = [json.loads(r[0]) for r in conn.execute(sql, params)]
        finally:
            conn.close()
        return found[:per_page], len(found) > per_page


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - quiet by default
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server's naming
        srv = self.server
        if self.headers.get("Authorization", "") != f"Bearer {srv.token}":
            return self._send(401, {"error": "missing or wrong bearer token"})
        url = urlsplit(self.path)
        match = PATH_RE.match(url.path)
        if not match:
            return self._send(404, {"error": f"no such resource {url.path}"})
        source_id = match["source_id"]
        if source_id in srv.fail_sources or (srv.fail_rate and srv.draw() < srv.fail_rate):
            return self._send(500, {"error": "internal server error (simulated)"})
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            since = parse_instant(query["updated_since"]) if query.get("updated_since") else None
            before = parse_instant(query["updated_before"]) if query.get("updated_before") else None
            page = int(query.get("page", 1))
            per_page = int(query.get("per_page", 500))
            if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
                raise ValueError(f"page >= 1 and 1 <= per_page <= {MAX_PER_PAGE}")
        except (ValueError, KeyError) as exc:
            return self._send(400, {"error": f"bad query: {exc}"})
        data, more = srv.store.page(source_id, since, before, page, per_page)
        self._send(200, {"data": data, "page": page, "next_page": page + 1 if more else None})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address,
        store: ApiStore,
        token: str,
        fail_rate: float,
        fail_sources: frozenset[str],
        seed: int,
        verbose: bool,
    ):
        super().__init__(address, _Handler)
        self.store, self.token, self.fail_rate = store, token, fail_rate
        self.fail_sources, self.verbose = fail_sources, verbose
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self) -> float:
        with self._lock:
            return self._random.random()


class ApiServer:
    """A running API on a background thread; use as a context manager or start()/stop()."""

    def __init__(
        self,
        store: ApiStore,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str,
        fail_rate: float = 0.0,
        fail_sources: Iterable[str] = (),
        seed: int = 0,
        verbose: bool = False,
    ):
        self.store, self.host, self.port = store, host, port
        self._args = (token, fail_rate, frozenset(fail_sources), seed, verbose)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ApiServer:
        if self._server is None:
            self._server = _Server((self.host, self.port), self.store, *self._args)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever, name=f"lapor-api-{self.port}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def serve_forever(self) -> None:
        """Block until interrupted (the CLI's ``serve``)."""
        self.start()
        try:
            self._thread.join()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_api(
    settings,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str = "sim-token",
    *,
    fail_rate: float = 0.0,
    fail_sources: Iterable[str] = (),
    seed: int = 0,
    verbose: bool = False,
) -> ApiServer:
    """An (unstarted) server over ``<sources_dir>/api.sqlite``; ``with`` it or call start()."""
    return ApiServer(
        ApiStore(api_path(settings)),
        host,
        port,
        token=token,
        fail_rate=fail_rate,
        fail_sources=fail_sources,
        seed=seed,
        verbose=verbose,
    )
