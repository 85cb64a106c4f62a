"""Airflow callbacks that tell the data engineers when a source or a day needs a person.

- ``source_failed``: ``on_failure_callback`` of the ingest tasks; runs once a source's task has
  failed for good (after its retries) and e-mails the source id, day, error and log URL.
- ``publication_deadline``: the DAG's ``DeadlineAlert``, when the day's national figures are not
  published by the configured local time (``COMPLAINTS_PUBLISH_DEADLINE``, HH:MM in WIB on the
  day after the complaint day, default 07:00).

Both only gather facts from the context and hand them to ``complaints.notify`` (plain smtplib),
and neither ever raises: an alert that cannot be sent is logged, the run's state stays as it is.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

log = logging.getLogger(__name__)

DEADLINE_ENV = "COMPLAINTS_PUBLISH_DEADLINE"
DEFAULT_DEADLINE = "07:00"


def publication_deadline_alert():
    """The daily DAG's DeadlineAlert, or None when ``COMPLAINTS_PUBLISH_DEADLINE=off``.

    The embedded runner turns it off: in Airflow 3.3.2 ``dag.test()`` fails when a run of a DAG
    with a DeadlineAlert ends (``DagRun.update_state`` looks the alert up by its serialised
    form instead of its id). A scheduler-run deployment keeps it on.
    """
    if (os.environ.get(DEADLINE_ENV) or "").strip().lower() == "off":
        return None
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=publish_deadline_interval(),
        callback=AsyncCallback(publication_deadline),
        name="national_figures_published",
    )


def publish_deadline_interval(value: str | None = None) -> timedelta:
    """Time from a daily run's logical date (WIB midnight starting its day) to the deadline.

    The complaint day D closes at D+1 00:00 WIB; the figures are due at ``HH:MM`` WIB on D+1.
    """
    raw = (os.environ.get(DEADLINE_ENV) or DEFAULT_DEADLINE) if value is None else value
    try:
        hours, minutes = (int(p) for p in raw.strip().split(":"))
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise ValueError
    except ValueError:
        raise ValueError(f"{DEADLINE_ENV} must be HH:MM (local WIB time), not {raw!r}") from None
    return timedelta(days=1, hours=hours, minutes=minutes)


def _source_id(context) -> str:
    if context.get("source_id"):
        return str(context["source_id"])
    ti = context.get("ti") or context.get("task_instance")
    rendered = getattr(ti, "rendered_map_index", None)
    if rendered:
        return str(rendered)
    task = context.get("task")
    kwargs = getattr(task, "op_kwargs", None) or {}
    if kwargs.get("source_id"):
        return str(kwargs["source_id"])
    return f"{getattr(ti, 'task_id', '?')}[{getattr(ti, 'map_index', '?')}]"


def _day(context) -> str:
    params = context.get("params") or {}
    if params.get("day"):
        return str(params["day"])
    task = context.get("task")
    day = (getattr(task, "op_kwargs", None) or {}).get("day")
    if isinstance(day, str):
        return day
    ti = context.get("ti")
    try:
        pulled = ti.xcom_pull(task_ids="resolve_day") if ti is not None else None
    except Exception:  # noqa: BLE001 - the alert must go out even without XCom
        pulled = None
    if pulled:
        return str(pulled)
    interval_start = context.get("data_interval_start") or context.get("logical_date")
    return interval_start.date().isoformat() if interval_start else "unknown day"


def source_failed(context) -> None:
    """on_failure_callback of the ingest tasks: one e-mail per source that failed its day."""
    from complaints.notify import send, source_failed_alert

    try:
        ti = context.get("ti") or context.get("task_instance")
        exc = context.get("exception")
        error = f"{type(exc).__name__}: {exc}" if exc is not None else "task failed"
        alert = source_failed_alert(
            _source_id(context),
            _day(context),
            error,
            getattr(ti, "log_url", None),
            tries=getattr(ti, "try_number", None),
        )
        send(alert)
    except Exception:  # noqa: BLE001 - a callback must never change the run's outcome
        log.exception("could not send the source-failed alert")


async def publication_deadline(context: dict | None = None, **kwargs) -> None:
    """DeadlineAlert callback (runs in the triggerer): the day's figures are late."""
    import asyncio

    from complaints.notify import deadline_missed_alert, send

    context = context or {}
    dag_run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    alert = deadline_missed_alert(
        dag_run.get("dag_id", "complaints_daily"),
        dag_run.get("dag_run_id") or dag_run.get("run_id") or "?",
        str(deadline.get("deadline_time")) if deadline.get("deadline_time") else None,
    )
    try:
        await asyncio.to_thread(send, alert)
    except Exception:  # noqa: BLE001
        log.exception("could not send the deadline alert")
