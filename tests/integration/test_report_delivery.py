"""Report delivery against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import json
import socket
from datetime import date

import duckdb
import pytest
from aiosmtpd.controller import Controller

from complaints.reports import build_institution_report, build_national_report, deliver_reports
from complaints.reports.delivery import file_sha256
from complaints.reports.sample import default_institutions, register, sample_frames

PERIOD, START = "month", date(2026, 10, 1)
REJECTED = "pengaduan@prov-31.go.id"
PASSWORD = "s3cret-Pa55"


class Recorder:
    def __init__(self):
        self.messages = []  # (envelope recipients, parsed message)
        self.rcpt_tries: dict[str, int] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_tries[address] = self.rcpt_tries.get(address, 0) + 1
        if address == REJECTED:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    # the test server offers no AUTH, so the connection has no login
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_TEST", f"smtp://127.0.0.1:{controller.port}")
    yield handler
    controller.stop()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    insts = default_institutions(4)  # kemendagri, dukcapil, bpjs-kes, prov-31
    con = duckdb.connect()
    register(con, sample_frames(institutions=insts, period=PERIOD, period_start=START))
    outbox = tmp_path_factory.mktemp("outbox")
    built = [build_institution_report(con, i["institution_id"], PERIOD, START, outbox)
             for i in insts]  # fmt: skip
    built.append(build_national_report(con, PERIOD, START, outbox))
    return con, built


def _deliver(con, reports, log_path):
    return deliver_reports(
        con, reports, conn_id="smtp_test", log_path=log_path, sender="noreply@lapor.go.id",
        max_attempts=3, national_to="kinerja@menpan.go.id", backoff=0,
    )  # fmt: skip


def test_each_report_goes_only_to_its_own_institution(smtp, reports, tmp_path):
    con, built = reports
    log_path = tmp_path / "delivery.jsonl"
    summary = _deliver(con, built, log_path)

    by_rcpt = {rcpts[0]: msg for rcpts, msg in smtp.messages}
    assert all(len(rcpts) == 1 for rcpts, _ in smtp.messages)
    assert set(by_rcpt) == {
        "pengaduan@kemendagri.go.id", "pengaduan@dukcapil.go.id", "pengaduan@bpjs-kes.go.id",
        "kinerja@menpan.go.id",
    }  # fmt: skip
    for report in built:
        owner = (
            "kinerja@menpan.go.id"
            if report.institution_id == "nasional"
            else f"pengaduan@{report.institution_id}.go.id"
        )
        if owner == REJECTED:
            continue
        msg = by_rcpt[owner]
        assert msg["To"] == owner
        assert "Laporan Kinerja Pengelolaan Pengaduan" in msg["Subject"]
        assert "Oktober 2026" in msg["Subject"]
        assert "Terlampir laporan kinerja" in msg.get_body(("plain",)).get_content()
        attachments = list(msg.iter_attachments())
        assert [a.get_filename() for a in attachments] == [report.pdf.name]
        assert attachments[0].get_content() == report.pdf.read_bytes()
        # nobody else's report in this mail
        others = {r.pdf.name for r in built} - {report.pdf.name}
        assert not others & {a.get_filename() for a in attachments}

    # the refusing recipient was retried, then recorded as failed; the others still went out
    assert smtp.rcpt_tries[REJECTED] == 3
    assert [(i, r) for i, r, _ in summary.failed] == [("prov-31", REJECTED)]
    assert len(summary.sent) == 4
    rows = [json.loads(line) for line in log_path.read_text().splitlines()]
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["attempts"] == 3 and failed[0]["recipient"] == REJECTED
    sent = {r["institution"]: r for r in rows if r["status"] == "sent"}
    assert sent["dukcapil"]["sha256"] == file_sha256(built[1].pdf)
    assert (
        sent["dukcapil"]["period"] == "month" and sent["dukcapil"]["period_start"] == "2026-10-01"
    )
    assert {"institution", "period", "period_start", "sha256", "recipient", "status",
            "attempts", "time"} <= set(sent["dukcapil"])  # fmt: skip

    # a re-run sends nothing new (only the failed one is tried again)
    smtp.messages.clear()
    again = _deliver(con, built, log_path)
    assert smtp.messages == []
    assert len(again.skipped) == 4 and again.sent == []
    assert [i for i, _, _ in again.failed] == ["prov-31"]

    # re-running the day rebuilds the PDFs (new bytes): still nothing is sent twice
    for report in built:
        report.pdf.write_bytes(report.pdf.read_bytes() + b"\n% rebuilt\n")
    smtp.messages.clear()
    rebuilt = _deliver(con, built, log_path)
    assert smtp.messages == [] and rebuilt.sent == []


def test_password_never_logged(reports, tmp_path, monkeypatch, caplog):
    """A server that is down: every attempt fails; the log and the summary hold no password."""
    con, built = reports
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_TEST", f"smtp://reports:{PASSWORD}@127.0.0.1:{_free_port()}"
    )
    log_path = tmp_path / "delivery.jsonl"
    with caplog.at_level("DEBUG"):
        summary = _deliver(con, built[:2], log_path)
    assert len(summary.failed) == 2 and not summary.sent
    assert PASSWORD not in log_path.read_text()
    assert PASSWORD not in caplog.text
    assert PASSWORD not in repr(summary)
