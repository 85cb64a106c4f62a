"""Bad pages from an http source through the real ingest path: the source fails with a clear
error naming the page, nothing is published, and the token never reaches the error text."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from bad_input_support import Lapor, failed


class _BadPage(BaseHTTPRequestHandler):
    body = b""

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


@pytest.fixture
def bad_api():
    servers = []

    def serve(page) -> str:
        handler = type("Handler", (_BadPage,), {"body": json.dumps(page).encode()})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://:tok@127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("page", "message"),
    [
        (
            {"data": {"tracking_id": "LAP-1"}, "page": 1, "next_page": None},
            "page 1: 'data' must be a list of records, got dict",
        ),
        ([{"tracking_id": "LAP-1"}], "page 1: the response is a JSON list, not an object"),
        (
            {"data": ["LAP-1"], "page": 1, "next_page": None},
            "page 1: record 0 is a JSON str, not an object",
        ),
    ],
)
def test_api_page_that_is_not_a_list_fails_the_source(
    tmp_path, monkeypatch, bad_api, page, message
):
    monkeypatch.setenv("AIRFLOW_CONN_LAPOR_API", bad_api(page))
    lapor = Lapor(
        tmp_path,
        monkeypatch,
        kind="http",
        conn_id="lapor_api",
        mapping="lapor_api_v1",
    )
    out = failed(lapor.ingest(), message)
    assert out.run["connector_kind"] == "http"
    assert out.run["rows_read"] == 0
    assert "tok" not in out.run["error"]


def test_http_source_with_documented_retry_option_records_the_bad_page(
    tmp_path, monkeypatch, bad_api
):
    page = {"data": {"tracking_id": "LAP-1"}, "page": 1, "next_page": None}
    monkeypatch.setenv("AIRFLOW_CONN_LAPOR_API", bad_api(page))
    lapor = Lapor(
        tmp_path,
        monkeypatch,
        {"max_attempts": 1},
        kind="http",
        conn_id="lapor_api",
        mapping="lapor_api_v1",
    )
    failed(lapor.ingest(), "page 1: 'data' must be a list of records, got dict")
