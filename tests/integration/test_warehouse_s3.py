"""The warehouse on S3: publish, rerun, late data, derived tables, read back through DuckDB.

moto's ThreadedMotoServer needs Flask, which this environment lacks, so the test serves moto's
S3 backend over HTTP itself: a small threaded server on 127.0.0.1 hands each request to moto's
own request dispatcher (the one its in-process mock uses). pyarrow's S3 client talks real HTTP
to it, exactly as it would to MinIO or AWS.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from test_warehouse_support import SOURCE, publish, ts, version  # noqa: E402

from complaints.warehouse import Warehouse  # noqa: E402
from complaints.warehouse.checksum import fingerprint  # noqa: E402

moto = pytest.importorskip("moto")
from botocore.awsrequest import AWSPreparedRequest  # noqa: E402
from botocore.compat import HTTPHeaders  # noqa: E402
from moto.core.botocore_stubber import BotocoreStubber  # noqa: E402

MON, TUE, WED = date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 7)
_DISPATCH = BotocoreStubber()
_DISPATCH_LOCK = threading.Lock()
_SKIP_HEADERS = {"content-length", "transfer-encoding", "connection", "server", "date"}


class _MotoS3Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output quiet
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _handle(self) -> None:
        body = self._body()
        headers = HTTPHeaders()
        for k, v in self.headers.items():
            headers[k] = v
        url = "https://s3.amazonaws.com" + self.path
        request = AWSPreparedRequest(self.command, url, headers, body, stream_output=False)
        with _DISPATCH_LOCK:
            status, resp_headers, resp_body = _DISPATCH.process_request(request)
        resp_headers = resp_headers or {}
        data = resp_body.encode() if isinstance(resp_body, str) else (resp_body or b"")
        self.send_response(status)
        for k, v in resp_headers.items():
            if k.lower() not in _SKIP_HEADERS:
                self.send_header(k, str(v))
        if self.command == "HEAD":
            length = resp_headers.get("Content-Length", resp_headers.get("content-length", 0))
            self.send_header("Content-Length", str(length))
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


@pytest.fixture
def s3_settings(settings, monkeypatch):
    import boto3

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    with moto.mock_aws():
        server = ThreadingHTTPServer(("127.0.0.1", 0), _MotoS3Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="lapor")
            endpoint = f"http://127.0.0.1:{server.server_address[1]}"
            monkeypatch.setenv("COMPLAINTS_S3_ENDPOINT_URL", endpoint)
            yield dataclasses.replace(settings, warehouse="s3://lapor/warehouse")
        finally:
            server.shutdown()
            server.server_close()


def _current(wh: Warehouse) -> list[dict]:
    return sorted(wh.read("complaint_current").to_pylist(), key=lambda r: r["complaint_id"])


def _load(wh: Warehouse) -> None:
    publish(wh, MON, [version("A", "received", ts(MON)), version("B", "received", ts(MON))], "m")
    publish(wh, WED, [version("A", "closed", ts(WED)), version("C", "received", ts(WED))], "w")
    publish(wh, TUE, [version("A", "verified", ts(TUE))], "t", nq=1)  # late, older
    publish(wh, MON, [version("A", "received", ts(MON)), version("B", "received", ts(MON))], "m")


def test_publish_rerun_and_read_back_on_s3(s3_settings, tmp_path):
    wh = Warehouse(s3_settings)
    assert not wh.storage.is_local
    _load(wh)
    local = Warehouse(root=str(tmp_path / "local"))
    _load(local)
    assert _current(wh) == _current(local)
    s3_print, local_print = fingerprint(wh.storage), fingerprint(local.storage)
    assert s3_print == local_print
    con = wh.connect()
    rows = con.sql(
        "select complaint_id, status, first_seen_day, last_seen_day from complaint_current "
        "order by 1"
    ).fetchall()
    assert rows == [
        ("A", "closed", MON, WED),
        ("B", "received", MON, MON),
        ("C", "received", WED, WED),
    ]
    assert con.sql("select count(*) from complaint_history").fetchall()[0][0] == 5
    assert con.sql("select count(*) from quarantine").fetchall()[0][0] == 1
    months = "from complaint_current_months('{}', '{}') order by complaint_id"
    assert (
        con.sql(months.format("2026-10", "2026-10")).fetchall()
        == con.sql("from complaint_current order by complaint_id").fetchall()
    )  # over S3 the macro filters the registered dataset
    assert con.sql(months.format("2026-11", "2026-12")).fetchall() == []
    assert wh.last_cursor(SOURCE) == ts(date(2026, 10, 8), 0).isoformat()
    assert wh.recent_row_counts(SOURCE, before=date(2026, 10, 8)) == [2, 2, 2]
    assert not wh.storage.list_files("_staging") and not wh.storage.list_files("_journal")


def test_derived_tables_compact_and_recover_on_s3(s3_settings):
    wh = Warehouse(s3_settings)
    part = {"period": "month", "period_start": "2026-10-01"}
    wh.write_table("region_metrics", pa.table({"region_code": ["31"], "n": [5]}), partition=part)
    wh.write_table("region_metrics", pa.table({"region_code": ["31"], "n": [6]}), partition=part)
    assert wh.connect().sql("select n from region_metrics").fetchall() == [(6,)]
    for i in range(3):
        wh.record_run(SOURCE, MON, {"run_id": f"r{i}", "status": "failed", "error": "timeout"})
    assert wh.compact("ingest_runs")["files_removed"] == 2
    assert wh.read("ingest_runs").num_rows == 3
    before = fingerprint(wh.storage)
    wh.storage.write_parquet("_staging/source-prov-31__dead/raw/x.parquet", pa.table({"a": [1]}))
    assert wh.recover() == ["rolled back source-prov-31__dead"]
    assert fingerprint(wh.storage) == before
    with pytest.raises(RuntimeError, match="httpfs"):
        wh.refresh_catalog()


def test_text_of_a_complaint_marked_rahasia_later_is_withdrawn_on_s3(s3_settings, tmp_path):
    """The withdrawal reads and rewrites earlier days' files through the storage layer: on S3
    it leaves exactly what it leaves on a local folder, and the sweep finds nothing more."""
    from test_warehouse_withdraw import RAW_TEXT, history, quarantined, raw_text, without_text
    from test_warehouse_withdraw import publish as publish_with_raw_text

    def load(wh: Warehouse) -> None:
        rows = [version("A", "received", ts(MON)), version("B", "received", ts(MON))]
        publish_with_raw_text(wh, MON, rows, "m", quarantined=["A"])
        publish_with_raw_text(wh, TUE, [version("A", "verified", ts(TUE), rahasia=True)], "t")
        # no version of A that day: its rahasia current row is read from the source's files
        publish_with_raw_text(wh, WED, [version("B", "verified", ts(WED))], "w", quarantined=["A"])

    wh = Warehouse(s3_settings)
    local = Warehouse(root=str(tmp_path / "local"))
    load(wh)
    load(local)
    assert history(wh, MON) == [("A", 0, None, None), ("B", 1, "Jalan rusak", "isi B received")]
    assert raw_text(wh, MON)[0] == ("A", None, None, "received")
    assert quarantined(wh, MON) == [("A", without_text("A"))]
    assert quarantined(wh, WED) == [("A", without_text("A"))]
    assert fingerprint(wh.storage) == fingerprint(local.storage)
    swept = wh.withdraw_text(SOURCE, RAW_TEXT)
    assert (swept["versions_text_withdrawn"], swept["quarantined_text_withdrawn"]) == (0, 0)
