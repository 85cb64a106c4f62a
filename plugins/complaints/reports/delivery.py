"""E-mail each report to its own institution only, with a delivery log that makes re-runs safe.

- An institution's PDF goes only to the owner_email(s) of that institution's sources; the
  national report goes to the KemenPAN-RB address given (or ``COMPLAINTS_NATIONAL_REPORT_TO``).
- The log (JSON lines at ``log_path``) has one row per attempt outcome: institution, period,
  period_start, sha256 of the PDF, recipient, status (sent | failed | skipped), attempts, time,
  error. A report whose (institution, period, period_start, recipient) already has a ``sent`` row
  is not sent again: re-running a day rebuilds the PDF (its generation date and PDF metadata
  change its bytes), which must not send the same period twice. The sha256 stays in the log so
  an operator can see which file went out.
- A failed send is retried ``max_attempts`` times with a small backoff, then logged as failed;
  the other reports are still sent. The SMTP password is never logged or put in an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import smtplib
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from complaints.connections import Conn, get_connection

from . import data
from .data import NATIONAL_ID, ReportFiles
from .formatting import period_label

log = logging.getLogger(__name__)
NATIONAL_ENV = "COMPLAINTS_NATIONAL_REPORT_TO"


@dataclass
class DeliverySummary:
    sent: list[tuple[str, str]] = field(default_factory=list)  # (institution, recipient)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # already sent before
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (.., .., error)
    no_recipient: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.no_recipient


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _sent_keys(log_path: Path) -> set[tuple]:
    keys = set()
    if not log_path.exists():
        return keys
    for line in log_path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a torn last line from a crash: ignore it
        if row.get("status") == "sent":
            keys.add((row["institution"], row["period"], row["period_start"], row["recipient"]))
    return keys


def _append(log_path: Path, row: dict) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def compose(report: ReportFiles, sender: str, recipient: str) -> EmailMessage:
    label = period_label(report.period, report.period_start)
    national = report.institution_id == NATIONAL_ID
    who = "nasional" if national else report.name or report.institution_id
    msg = EmailMessage()
    msg["Subject"] = f"Laporan Kinerja Pengelolaan Pengaduan SP4N-LAPOR! {label} - {who}"
    msg["From"] = sender
    msg["To"] = recipient
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(
        "Yth. Pengelola Pengaduan,\n\n"
        f"Terlampir laporan kinerja pengelolaan pengaduan SP4N-LAPOR! {who} untuk periode "
        f"{label}. Laporan memuat porsi pengaduan yang ditindaklanjuti, rating penanganan, "
        "kepatuhan terhadap batas waktu (SLA), tren, dan daftar pengaduan yang melewati batas "
        "waktu.\n\n"
        "Laporan ini dibuat otomatis dan tidak memuat data pribadi pelapor. Mohon tidak "
        "membalas e-mail ini.\n\n"
        "Hormat kami,\nTim Pengelola SP4N-LAPOR!\n"
    )
    msg.add_attachment(
        report.pdf.read_bytes(), maintype="application", subtype="pdf", filename=report.pdf.name
    )
    return msg


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


def _send(conn: Conn, msg: EmailMessage, timeout: float) -> None:
    use_ssl = conn.conn_type == "smtps" or str(conn.extra.get("ssl", "")).lower() == "true"
    starttls = str(conn.extra.get("starttls", "")).lower() == "true"
    port = conn.port or (465 if use_ssl else 25)
    host = conn.host or "localhost"
    if use_ssl:
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if starttls:
            smtp.starttls(context=ssl.create_default_context())
        if conn.login:
            smtp.login(conn.login, conn.password)
        smtp.send_message(msg)


def _recipients(con, report: ReportFiles, national_to: str | None) -> list[str]:
    if report.institution_id == NATIONAL_ID:
        to = national_to or os.environ.get(NATIONAL_ENV, "")
        return [a.strip() for a in to.split(",") if a.strip()]
    return data.recipients(con, report.institution_id)


def deliver_reports(
    con,
    reports: Iterable[ReportFiles],
    *,
    conn_id: str = "smtp_default",
    log_path: Path,
    sender: str,
    max_attempts: int = 3,
    national_to: str | None = None,
    backoff: float = 1.0,
    timeout: float = 30.0,
) -> DeliverySummary:
    """Send every report's PDF to its institution (see the module docstring)."""
    conn = get_connection(conn_id)
    log_path = Path(log_path)
    done = _sent_keys(log_path)
    summary = DeliverySummary()
    for report in reports:
        start = report.period_start.isoformat() if report.period_start else ""
        base = {"institution": report.institution_id, "period": report.period,
                "period_start": start}  # fmt: skip
        to = _recipients(con, report, national_to)
        if not to:
            log.warning("no recipient for %s %s %s", report.institution_id, report.period, start)
            summary.no_recipient.append(report.institution_id)
            continue
        digest = file_sha256(report.pdf)
        for recipient in to:
            key = (report.institution_id, report.period, start, recipient)
            if key in done:
                summary.skipped.append((report.institution_id, recipient))
                continue
            error = ""
            attempts = 0
            while attempts < max_attempts:
                attempts += 1
                try:
                    _send(conn, compose(report, sender, recipient), timeout)
                    error = ""
                    break
                except (smtplib.SMTPException, OSError) as exc:
                    error = _redact(f"{type(exc).__name__}: {exc}", conn.password)
                    log.warning(
                        "sending %s to %s failed (attempt %d/%d): %s",
                        report.pdf.name, recipient, attempts, max_attempts, error,
                    )  # fmt: skip
                    if attempts < max_attempts:
                        time.sleep(backoff * attempts)
            status = "failed" if error else "sent"
            _append(
                log_path,
                {**base, "sha256": digest, "file": report.pdf.name, "recipient": recipient,
                 "status": status, "attempts": attempts, "error": error or None,
                 "time": datetime.now(UTC).isoformat(timespec="seconds")},
            )  # fmt: skip
            if error:
                summary.failed.append((report.institution_id, recipient, error))
            else:
                done.add(key)
                summary.sent.append((report.institution_id, recipient))
    return summary
