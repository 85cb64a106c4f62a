"""The LAPOR! API connector: paginated JSON over HTTPS with a bearer token.

``GET {base_url}{path}?updated_since=..&updated_before=..&page=n&per_page=m`` answers
``{"data": [...], "page": n, "next_page": n+1 | null}``. The window alone decides what is read:
``updated_since``/``updated_before`` are the window's UTC bounds, never the stored cursor, so a
rerun of a day asks for exactly the same records. The cursor is only reported (``max_updated``:
the largest ``updated_at`` seen).

Options: ``path`` (default ``/api/v1/sources/{source_id}/complaints``), ``page_size`` (500),
``connect_timeout`` (5 s), ``read_timeout`` (30 s), ``max_attempts`` (5), ``retry_base_delay``
(1 s; exponential backoff with full jitter), ``retry_max_delay`` (60 s), ``retry_after_max``
(120 s; cap on a server's Retry-After), ``updated_field`` (``updated_at``), ``batch_rows``
(50,000: pages are grouped into batches of about this many rows).

Retried: 5xx, 429 (honouring Retry-After, seconds or HTTP-date), timeouts, dropped connections,
bodies that are not JSON (a cut-off transfer). Other 4xx fail at once with the status and a short
body excerpt. The token is sent only in the Authorization header and never logged.
Certificates are always verified, against the system's CAs or ``SSL_CERT_FILE``'s (read once per
process: ``tls_context``).
"""

from __future__ import annotations

import json
import logging
import random
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote

import httpx
import pyarrow as pa
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from complaints.connections import ConnectionNotFound, get_connection
from complaints.connectors.base import Connector, UpdatedTracker, Window, records_to_table

log = logging.getLogger(__name__)

DEFAULT_PATH = "/api/v1/sources/{source_id}/complaints"


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """The certificate-verifying context every read shares, as httpx builds by default (the
    system's or ``SSL_CERT_FILE``'s CAs). Building it loads the CA bundle, ~17 ms: a client of
    its own per source-day cost 146 national sources ~2.5 s."""
    return httpx.create_ssl_context()


class _Retryable(Exception):
    """A failure worth another attempt; ``retry_after`` is the server's wish, if any."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class _Fatal(Exception):
    """A failure no retry will fix (4xx, a malformed page)."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _excerpt(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


class HttpConnector(Connector):
    kind = "http"

    def __init__(self, source, settings):
        super().__init__(source, settings)
        conn_id = getattr(source.connector, "conn_id", None)
        if not conn_id:
            raise self.error("http connector needs a conn_id")
        try:
            self.conn = get_connection(conn_id)
        except ConnectionNotFound as exc:
            raise self.error(str(exc)) from None
        if not self.conn.host:
            raise self.error(f"connection {conn_id!r} has no host")
        path = str(self.options.get("path", DEFAULT_PATH))
        try:
            path = path.format(source_id=quote(self.source_id, safe=""))
        except (KeyError, IndexError, ValueError):
            raise self.error(f"option path {path!r} may only use {{source_id}}") from None
        self.url = self.conn.base_url + ("" if path.startswith("/") else "/") + path
        self.page_size = self.opt_number("page_size", 500, minimum=1, integer=True)
        self.max_attempts = self.opt_number("max_attempts", 5, minimum=1, integer=True)
        self.base_delay = self.opt_number("retry_base_delay", 1.0)
        self.max_delay = self.opt_number("retry_max_delay", 60.0)
        self.retry_after_max = self.opt_number("retry_after_max", 120.0)
        self.timeout = httpx.Timeout(
            connect=self.opt_number("connect_timeout", 5.0),
            read=self.opt_number("read_timeout", 30.0),
            write=self.opt_number("read_timeout", 30.0),
            pool=self.opt_number("connect_timeout", 5.0),
        )
        self.updated_field = str(self.options.get("updated_field", "updated_at"))
        #: HTTP requests sent by the last read (retries included)
        self.requests = 0

    def describe(self) -> str:
        return (
            f"http GET {self.url} (connection {self.conn.conn_id}, {self.page_size} per page, "
            f"up to {self.max_attempts} attempts)"
        )

    # retry policy ---------------------------------------------------------------------
    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.retry_after_max)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (state.attempt_number - 1))
        return random.uniform(0, ceiling)

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0
        log.warning(
            "source %s: attempt %d of %d failed (%s); retrying in %.2f s",
            self.source_id,
            state.attempt_number,
            self.max_attempts,
            exc,
            wait,
        )

    def _fetch_page(self, client: httpx.Client, params: dict) -> dict:
        """One page, retried; returns the decoded JSON object."""
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._get_once, client, params)
        except _Retryable as exc:
            raise self.error(
                f"page {params['page']} failed after {self.max_attempts} attempts: {exc}"
            ) from None
        except _Fatal as exc:
            raise self.error(f"page {params['page']}: {exc}") from None

    def _get_once(self, client: httpx.Client, params: dict) -> dict:
        self.requests += 1
        try:
            response = client.get(self.url, params=params)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed ({type(exc).__name__}: {exc})") from None
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retryable(f"HTTP {status}", retry_after)
        if status >= 400:
            raise _Fatal(f"HTTP {status}: {_excerpt(response.text)}")
        if status != 200:
            raise _Fatal(f"unexpected HTTP {status}")
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _Retryable(
                f"the response is not valid JSON ({len(response.content)} bytes, "
                f"content-type {response.headers.get('content-type', '?')})"
            ) from None
        if not isinstance(body, dict):
            raise _Fatal(f"the response is a JSON {type(body).__name__}, not an object")
        return body

    # reading --------------------------------------------------------------------------
    def read(self, window: Window) -> Iterator[pa.Table]:
        self.requests = 0
        self.max_updated = None
        tracker = UpdatedTracker(window.tz, naive_is="utc")
        headers = {"Accept": "application/json"}
        if self.conn.password:
            headers["Authorization"] = f"Bearer {self.conn.password}"
        pending: list[dict] = []
        page: int | None = 1
        with httpx.Client(headers=headers, timeout=self.timeout, verify=tls_context()) as client:
            while page is not None:
                params = {
                    "updated_since": window.start_iso,
                    "updated_before": window.end_iso,
                    "page": page,
                    "per_page": self.page_size,
                }
                body = self._fetch_page(client, params)
                self._check_page(page, body)
                records = body.get("data")
                if not isinstance(records, list):
                    raise self.error(
                        f"page {page}: 'data' must be a list of records, "
                        f"got {type(records).__name__}"
                    )
                for i, record in enumerate(records):
                    if not isinstance(record, dict):
                        raise self.error(
                            f"page {page}: record {i} is a JSON {type(record).__name__}, "
                            "not an object"
                        )
                moments = tracker.observe(r.get(self.updated_field) for r in records)
                self._check_window(page, moments, window)
                pending.extend(records)
                if len(pending) >= self.batch_rows:
                    yield records_to_table(pending)
                    pending = []
                page = self._next_page(page, body)
        if pending:
            yield records_to_table(pending)
        self.max_updated = tracker.value

    def _check_page(self, page: int, body: dict) -> None:
        """What the contract promises besides ``data``: a 200 answer may still carry an error,
        and a page that is not the one asked for (a proxy's cache, a server ignoring ``page``)
        would repeat or skip rows."""
        if body.get("error"):
            message = str(body["error"])[:200]
            raise self.error(f"page {page}: the answer reports an error: {message}")
        if "page" in body and body["page"] != page:
            raise self.error(f"page {page}: the answer is page {body['page']!r}")

    def _check_window(self, page: int, moments: list, window: Window) -> None:
        """Every record must have been updated inside the window asked for: a server that
        ignores ``updated_since`` / ``updated_before`` sends other days' rows, which would then
        be read on several days. (A value that is not a date-time is left to the row checks.)"""
        outside = sum(1 for m in moments if m is not None and not window.start <= m < window.end)
        if outside:
            raise self.error(
                f"page {page}: {outside} records have a {self.updated_field} outside the "
                f"window asked for ({window.start_iso} .. {window.end_iso})"
            )

    def _next_page(self, page: int, body: dict) -> int | None:
        if "next_page" not in body:  # read as the last page, it would cut the day short
            raise self.error(f"page {page}: the answer has no next_page (a number or null)")
        next_page = body["next_page"]
        if next_page is None:
            return None
        if isinstance(next_page, bool) or not isinstance(next_page, int) or next_page <= page:
            raise self.error(
                f"page {page}: next_page must be a later page number or null, not {next_page!r}"
            )
        return next_page
