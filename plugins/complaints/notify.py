"""E-mail the data engineers when something needs a person: plain smtplib, no Airflow.

The SMTP server comes from the connection ``smtp_default`` (``AIRFLOW_CONN_SMTP_DEFAULT`` or
Airflow's own store inside a task, see ``complaints.connections``); recipients from
``COMPLAINTS_ALERT_EMAILS`` (comma-separated). With either missing the alert is logged as a
warning instead, so a local run never fails for want of a mail server.

Alert text never carries a secret: the SMTP password is never put in a message, and any
``scheme://user:password@host`` and bearer token in an error text is masked before sending.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

log = logging.getLogger(__name__)

ALERT_CONN_ID = "smtp_default"
RECIPIENTS_ENV = "COMPLAINTS_ALERT_EMAILS"

_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][\w+.-]*://)(?P<userinfo>[^/@\s]+)@")
_BEARER = re.compile(r"(?i)(bearer\s+)[\w.~+/=-]+")
_SECRET_PARAM = re.compile(r"(?i)((?:token|password|passwd|secret|api_key|apikey)=)[^&\s]+")


@dataclass(frozen=True)
class Alert:
    subject: str
    body: str


def recipients(value: str | None = None) -> list[str]:
    """Addresses from ``COMPLAINTS_ALERT_EMAILS`` (or ``value``), comma- or semicolon-separated."""
    raw = os.environ.get(RECIPIENTS_ENV, "") if value is None else value
    return [a.strip() for a in re.split(r"[,;]", raw) if a.strip()]


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Mask credentials in free text (URLs with user:password, bearer tokens, ?token=...)."""
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}***@", text)
    text = _BEARER.sub(r"\1***", text)
    text = _SECRET_PARAM.sub(r"\1***", text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def source_failed_alert(
    source_id: str, day: str, error: str, log_url: str | None, *, tries: int | None = None
) -> Alert:
    """The message for a source that failed its day (after its retries)."""
    lines = [
        f"Source {source_id} failed its day {day}.",
        "",
        f"Source: {source_id}",
        f"Day:    {day}",
    ]
    if tries:
        lines.append(f"Tries:  {tries}")
    lines += [
        f"Log:    {log_url or '(no log URL)'}",
        "",
        "Error:",
        f"  {error or '(no error text)'}",
        "",
        "The other sources are published; the national figures mark this source as failed.",
        f"Re-run the day once the source is back: trigger complaints_daily with "
        f'{{"day": "{day}"}}, or `complaints ingest {source_id} --day {day}`.',
    ]
    return Alert(subject=f"[complaints] source {source_id} failed for {day}", body="\n".join(lines))


def deadline_missed_alert(dag_id: str, run_id: str, deadline: str | None) -> Alert:
    """The message for national figures that were not published in time."""
    body = "\n".join(
        [
            f"The national figures of {dag_id} run {run_id} were not published by the deadline"
            f" ({deadline or 'unknown'}).",
            "",
            "Look at the run in the Airflow UI (its summarize_day log lists every source's status)"
            " and at `complaints runs show DAY`.",
        ]
    )
    return Alert(subject=f"[complaints] {dag_id} missed its publication deadline", body=body)


def send(alert: Alert, *, to: list[str] | None = None, conn_id: str = ALERT_CONN_ID) -> bool:
    """Send ``alert``; return True when a server accepted it, False when it was only logged.

    Missing configuration (no recipients, no connection) logs a warning. A server that refuses
    the message raises: a caller in a failure callback logs that and carries on.
    """
    from complaints.connections import ConnectionNotFound, get_connection

    to = recipients() if to is None else to
    if not to:
        log.warning(
            "no alert e-mail configured (%s is empty); alert not sent: %s\n%s",
            RECIPIENTS_ENV,
            alert.subject,
            alert.body,
        )
        return False
    try:
        conn = get_connection(conn_id)
    except ConnectionNotFound:
        log.warning(
            "no SMTP connection %r; alert for %s not sent: %s\n%s",
            conn_id,
            ", ".join(to),
            alert.subject,
            alert.body,
        )
        return False
    secrets = (conn.password,) if conn.password else ()
    msg = EmailMessage()
    msg["Subject"] = scrub(alert.subject, secrets)
    msg["From"] = (
        conn.extra.get("from_email")
        or os.environ.get("COMPLAINTS_ALERT_FROM")
        or (conn.login if "@" in (conn.login or "") else "complaints-pipeline@localhost")
    )
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="complaints.local")
    msg.set_content(scrub(alert.body, secrets))
    _deliver(conn, msg, to)
    log.info("alert sent to %s: %s", ", ".join(to), msg["Subject"])
    return True


def _flag(extra: dict, name: str) -> bool:
    return str(extra.get(name, "")).lower() in ("1", "true", "yes", "on")


def _deliver(conn, msg: EmailMessage, to: list[str]) -> None:
    host = conn.host or "127.0.0.1"
    use_ssl = _flag(conn.extra, "ssl") or (
        conn.port == 465 and not _flag(conn.extra, "disable_ssl")
    )
    port = conn.port or (465 if use_ssl else 25)
    timeout = float(conn.extra.get("timeout", 30))
    context = ssl.create_default_context()
    if use_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        smtp.ehlo()
        if not use_ssl and not _flag(conn.extra, "disable_tls") and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        if conn.login and conn.password:
            if smtp.has_extn("auth"):
                smtp.login(conn.login, conn.password)
            else:  # a relay that takes mail without AUTH (loopback, internal relay)
                log.warning("SMTP server %s:%s offers no AUTH; sending without login", host, port)
        smtp.send_message(msg, to_addrs=to)
