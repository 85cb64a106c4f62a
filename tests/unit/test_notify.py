"""The notifier sends through a real SMTP server on loopback and never mails a secret."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest

from complaints import notify


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[email.message.EmailMessage] = []

    class Collect(Message):
        def __init__(self):
            super().__init__(message_class=email.message.EmailMessage)

        def handle_message(self, message):
            received.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, received
    finally:
        controller.stop()


def test_recipients_are_split_and_trimmed():
    assert notify.recipients(" a@x.id, b@y.id;c@z.id ,") == ["a@x.id", "b@y.id", "c@z.id"]
    assert notify.recipients("") == []


def test_scrub_masks_credentials():
    text = notify.scrub(
        "GET https://user:s3cr3t@api.lapor.go.id/x?token=abc123&page=2 "
        "Authorization: Bearer eyJhbGciOi.payload.sig; pw hunter22",
        ("hunter22",),
    )
    for secret in ("s3cr3t", "abc123", "eyJhbGciOi", "hunter22"):
        assert secret not in text
    assert "api.lapor.go.id" in text and "page=2" in text


def test_source_failed_mail_reaches_the_server(smtp_server, monkeypatch):
    host, port, received = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://alerts:mailpass99@{host}:{port}")
    monkeypatch.setenv("COMPLAINTS_ALERT_EMAILS", "de1@example.id, de2@example.id")
    alert = notify.source_failed_alert(
        "prov-31",
        "2026-10-31",
        "SourceError: http://bot:tok3n@127.0.0.1:9/ refused (mailpass99)",
        "http://127.0.0.1:8080/dags/complaints_daily/runs/r/tasks/ingest_http?map_index=0",
    )
    assert notify.send(alert) is True
    [received_msg] = received
    msg = email.message_from_bytes(received_msg.as_bytes(), policy=email.policy.default)
    body = msg.get_content()
    assert "prov-31" in msg["Subject"] and "2026-10-31" in msg["Subject"]
    assert "prov-31" in body and "map_index=0" in body and "refused" in body
    assert msg["To"] == "de1@example.id, de2@example.id"
    raw = msg.as_string()
    assert "mailpass99" not in raw and "tok3n" not in raw


def test_no_recipients_or_no_connection_only_warns(monkeypatch, caplog):
    alert = notify.source_failed_alert("kota-3171", "2026-10-31", "boom", None)
    monkeypatch.delenv("COMPLAINTS_ALERT_EMAILS", raising=False)
    with caplog.at_level("WARNING"):
        assert notify.send(alert) is False
    assert "COMPLAINTS_ALERT_EMAILS" in caplog.text and "kota-3171" in caplog.text
    caplog.clear()
    monkeypatch.setenv("COMPLAINTS_ALERT_EMAILS", "de@example.id")
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    monkeypatch.delenv("AIRFLOW_CTX_DAG_ID", raising=False)
    with caplog.at_level("WARNING"):
        assert notify.send(alert) is False
    assert "smtp_default" in caplog.text
