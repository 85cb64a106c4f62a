"""The http connector against a real HTTP server on 127.0.0.1 that misbehaves on request."""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace as NS
from urllib.parse import parse_qs, urlsplit

import pytest

from complaints.connectors import SourceError, Window, open_connector

TOKEN = "s3cr3t-token-do-not-log"
DAY = date(2026, 10, 5)


def record(page: int, i: int) -> dict:
    return {
        "tracking_id": f"LAP-{page}-{i}",
        "confidential": i % 2 == 0,
        "rating": 4,
        "score": 4.5,
        "closed_at": None,
        "meta": {"kanal": "web", "tags": [1, 2]},
        "updated_at": f"2026-10-05T0{page}:0{i}:00Z",
    }


class Api:
    """Pages of records plus a script of misbehaviour per (page, attempt)."""

    def __init__(self, pages: int = 3, per_page: int = 2):
        self.pages = pages
        self.per_page = per_page
        self.script: dict[int, list[str]] = {}
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    def hits(self, page: int) -> int:
        return sum(1 for r in self.requests if r["page"] == page)

    def next_action(self, page: int) -> str:
        with self.lock:
            actions = self.script.get(page) or []
            return actions.pop(0) if actions else "ok"


def make_handler(api: Api):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def send_json(self, status: int, body, headers=None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            page = int(query.get("page", "0"))
            with api.lock:
                api.requests.append(
                    {
                        "path": url.path,
                        "query": query,
                        "page": page,
                        "auth": self.headers.get("Authorization"),
                    }
                )
            action = api.next_action(page)
            try:
                self.respond(action, page)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def respond(self, action: str, page: int):
            if action == "500":
                return self.send_json(500, {"error": "boom"})
            if action == "429":
                return self.send_json(429, {"error": "slow down"}, {"Retry-After": "30"})
            if action == "429-date":
                past = format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True)
                return self.send_json(429, {"error": "slow down"}, {"Retry-After": past})
            if action == "slow":
                time.sleep(1.0)
            if action == "drop":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "5000")
                self.end_headers()
                self.wfile.write(b'{"data": [{"tracking_id": "LAP-')
                self.wfile.flush()
                self.close_connection = True
                return None
            if action == "401":
                return self.send_json(401, {"error": "invalid token for this API"})
            if action == "notlist":
                return self.send_json(200, {"data": {"tracking_id": "x"}, "page": page})
            if action == "error200":
                body = {"data": [], "page": page, "next_page": None, "error": "database down"}
                return self.send_json(200, body)
            if action == "nonext":
                return self.send_json(200, {"data": [record(page, 0)], "page": page})
            if action == "outside":  # a server ignoring updated_since / updated_before
                rows = [dict(record(page, 0), updated_at="2026-10-09T02:00:00Z"), record(page, 1)]
                return self.send_json(200, {"data": rows, "page": page, "next_page": None})
            if action == "page1":  # a cache answering every page with the first one
                return self.send_json(200, {"data": [record(1, 0)], "page": 1, "next_page": 2})
            data = [record(page, i) for i in range(api.per_page)]
            nxt = page + 1 if page < api.pages else None
            return self.send_json(200, {"data": data, "page": page, "next_page": nxt})

    return Handler


@pytest.fixture
def api(monkeypatch):
    api = Api()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(api))
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    host, port = server.server_address
    monkeypatch.setenv("AIRFLOW_CONN_LAPOR_TEST", f"http://:{TOKEN}@{host}:{port}")
    yield api
    server.shutdown()
    server.server_close()


def source(**options) -> NS:
    opts = {"page_size": 2, "retry_base_delay": 0.001, "retry_max_delay": 0.01, **options}
    return NS(
        id="prov-31",
        timezone="Asia/Jakarta",
        connector=NS(kind="http", conn_id="lapor_test", options=opts),
    )


def read_all(conn, window=None):
    window = window or Window.for_day(DAY, "Asia/Jakarta")
    return list(conn.read(window))


def test_pages_are_read_with_the_window_token_and_string_values(api, settings):
    conn = open_connector(source(), settings)
    batches = read_all(conn)
    assert len(batches) == 1  # three pages grouped into one batch
    rows = batches[0].to_pylist()
    assert [r["tracking_id"] for r in rows] == [f"LAP-{p}-{i}" for p in (1, 2, 3) for i in (0, 1)]
    assert all(str(f.type) == "string" for f in batches[0].schema)
    first = rows[0]
    assert first["confidential"] == "true" and rows[1]["confidential"] == "false"
    assert first["rating"] == "4" and first["score"] == "4.5"
    assert first["closed_at"] is None
    assert json.loads(first["meta"]) == {"kanal": "web", "tags": [1, 2]}
    assert conn.max_updated == "2026-10-05T03:01:00Z"
    assert [r["page"] for r in api.requests] == [1, 2, 3]
    req = api.requests[0]
    assert req["path"] == "/api/v1/sources/prov-31/complaints"
    assert req["auth"] == f"Bearer {TOKEN}"
    assert req["query"] == {
        "updated_since": "2026-10-04T17:00:00Z",
        "updated_before": "2026-10-05T17:00:00Z",
        "page": "1",
        "per_page": "2",
    }
    assert TOKEN not in conn.describe()


def test_batches_group_pages_up_to_batch_rows(api, settings):
    conn = open_connector(source(batch_rows=3), settings)
    sizes = [b.num_rows for b in read_all(conn)]
    assert sizes == [4, 2]


def test_custom_path_is_used(api, settings):
    conn = open_connector(source(path="/v2/{source_id}/items"), settings)
    read_all(conn)
    assert api.requests[0]["path"] == "/v2/prov-31/items"


def test_server_errors_are_retried(api, settings):
    api.script[2] = ["500", "500"]
    conn = open_connector(source(), settings)
    rows = read_all(conn)[0].num_rows
    assert rows == 6
    assert api.hits(1) == 1 and api.hits(2) == 3 and api.hits(3) == 1


def test_429_honours_retry_after_capped(api, settings):
    api.script[1] = ["429", "429-date"]
    conn = open_connector(source(retry_after_max=0.01), settings)
    assert read_all(conn)[0].num_rows == 6
    assert api.hits(1) == 3


def test_slow_page_beyond_read_timeout_is_retried(api, settings):
    api.script[3] = ["slow"]
    conn = open_connector(source(read_timeout=0.2), settings)
    assert read_all(conn)[0].num_rows == 6
    assert api.hits(3) == 2


def test_dropped_connection_mid_response_is_retried(api, settings):
    api.script[1] = ["drop"]
    conn = open_connector(source(), settings)
    assert read_all(conn)[0].num_rows == 6
    assert api.hits(1) == 2


def test_persistent_errors_fail_after_max_attempts(api, settings):
    api.script[1] = ["500"] * 10
    conn = open_connector(source(max_attempts=3), settings)
    with pytest.raises(SourceError, match=r"page 1 failed after 3 attempts: HTTP 500"):
        read_all(conn)
    assert api.hits(1) == 3


def test_401_fails_at_once_without_the_token(api, settings):
    api.script[1] = ["401"]
    conn = open_connector(source(), settings)
    with pytest.raises(SourceError) as info:
        read_all(conn)
    message = str(info.value)
    assert "HTTP 401" in message and "invalid token for this API" in message
    assert TOKEN not in message
    assert api.hits(1) == 1


def test_page_whose_data_is_not_a_list_is_an_error(api, settings):
    api.script[2] = ["notlist"]
    conn = open_connector(source(), settings)
    with pytest.raises(SourceError, match=r"page 2: 'data' must be a list of records, got dict"):
        read_all(conn)
    assert api.hits(2) == 1


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("error200", "page 2: the answer reports an error: database down"),
        ("nonext", "page 2: the answer has no next_page (a number or null)"),
        ("page1", "page 2: the answer is page 1"),
        (
            "outside",
            "page 2: 1 records have a updated_at outside the window asked for "
            "(2026-10-04T17:00:00Z .. 2026-10-05T17:00:00Z)",
        ),
    ],
)
def test_a_200_answer_that_breaks_the_contract_fails_the_source(api, settings, action, message):
    """Not an empty day, a day cut short after page 2, page 1's rows read twice, or another
    day's rows read on this one too."""
    api.script[2] = [action]
    conn = open_connector(source(), settings)
    with pytest.raises(SourceError, match=re.escape(message)):
        read_all(conn)
    assert api.hits(2) == 1 and api.hits(3) == 0


def test_rerun_reads_the_same_window_whatever_the_cursor(api, settings):
    conn = open_connector(source(), settings)
    first = read_all(conn)
    window = Window.for_day(DAY, "Asia/Jakarta", cursor="2026-10-05T02:00:00Z")
    second = read_all(conn, window)
    assert first[0].equals(second[0])
    assert api.requests[0]["query"] == api.requests[3]["query"]


def test_missing_connection_is_a_source_error(settings, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_LAPOR_TEST", raising=False)
    with pytest.raises(SourceError, match="lapor_test"):
        open_connector(source(), settings)


def test_unreachable_server_fails_after_retries(settings, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_CONN_LAPOR_TEST", f"http://:{TOKEN}@127.0.0.1:{port}")
    conn = open_connector(source(max_attempts=2), settings)
    with pytest.raises(SourceError, match="after 2 attempts: connection failed") as info:
        read_all(conn)
    assert conn.requests == 2
    assert TOKEN not in str(info.value)


def _self_signed(cert_path, key_path) -> None:
    import ipaddress
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.fixture
def tls_api(tmp_path, monkeypatch):
    """The same API over HTTPS with a self-signed certificate for 127.0.0.1."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    _self_signed(cert, key)
    api = Api()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(api))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    host, port = server.server_address
    monkeypatch.setenv("AIRFLOW_CONN_LAPOR_TEST", f"https://:{TOKEN}@{host}:{port}")
    yield api, cert
    server.shutdown()
    server.server_close()


def test_https_verifies_the_certificate_with_one_shared_context(tls_api, settings, monkeypatch):
    from complaints.connectors import http

    api, cert = tls_api
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    http.tls_context.cache_clear()
    with pytest.raises(SourceError, match="(?i)certificate"):
        read_all(open_connector(source(max_attempts=1), settings))
    assert api.requests == []  # refused before any request was sent

    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trusted as a deployment would configure it
    http.tls_context.cache_clear()
    try:
        first = read_all(open_connector(source(), settings))
        second = read_all(open_connector(source(), settings))
        assert sum(t.num_rows for t in first) == sum(t.num_rows for t in second) == 6
        assert http.tls_context.cache_info().misses == 1  # one context for both reads
        assert http.tls_context().verify_mode == ssl.CERT_REQUIRED
    finally:
        http.tls_context.cache_clear()
