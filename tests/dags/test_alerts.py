"""The alerts are wired into complaints_daily and survive serialisation (what the scheduler
sees)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from complaints.orchestration import alerts


def test_ingest_tasks_alert_on_failure(dagbag):
    dag = dagbag.dags["complaints_daily"]
    for kind in ("http", "sql", "file"):
        callbacks = dag.get_task(f"ingest_{kind}").on_failure_callback
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        assert alerts.source_failed in callbacks


def test_deadline_alert_imports_and_serialises(dagbag):
    from airflow.sdk import AsyncCallback, DeadlineAlert
    from airflow.serialization.serialized_objects import DagSerialization

    dag = dagbag.dags["complaints_daily"]
    [deadline] = dag.deadline
    assert isinstance(deadline, DeadlineAlert)
    assert isinstance(deadline.callback, AsyncCallback)
    assert deadline.callback.path == "complaints.orchestration.alerts.publication_deadline"
    assert deadline.interval == timedelta(days=1, hours=7)

    data = DagSerialization.to_dict(dag)
    restored = DagSerialization.from_dict(data)
    assert restored.dag_id == "complaints_daily"
    text = repr(data)
    assert "publication_deadline" in text and "DagRunLogicalDateDeadline" in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [("07:00", timedelta(days=1, hours=7)), ("23:30", timedelta(days=1, hours=23, minutes=30))],
)
def test_deadline_time_is_local_next_morning(value, expected):
    assert alerts.publish_deadline_interval(value) == expected


@pytest.mark.parametrize("value", ["7", "25:00", "ab:cd"])
def test_bad_deadline_time_names_the_setting(value):
    with pytest.raises(ValueError, match="COMPLAINTS_PUBLISH_DEADLINE"):
        alerts.publish_deadline_interval(value)


def test_source_failed_never_raises_and_names_the_source(monkeypatch, caplog):
    monkeypatch.delenv("COMPLAINTS_ALERT_EMAILS", raising=False)

    class TI:
        task_id = "ingest_http"
        map_index = 1
        rendered_map_index = "prov-31"
        try_number = 2
        log_url = "http://127.0.0.1:8080/dags/complaints_daily/runs/r/tasks/ingest_http"

    context = {"ti": TI(), "params": {"day": "2026-10-31"}, "exception": RuntimeError("boom")}
    with caplog.at_level("WARNING"):
        alerts.source_failed(context)
    text = caplog.text
    assert "prov-31" in text and "2026-10-31" in text and "boom" in text
    assert "no alert e-mail configured" in text


def test_deadline_callback_sends_through_the_notifier(monkeypatch):
    import asyncio

    from complaints import notify

    sent = []
    monkeypatch.setattr(notify, "send", lambda alert, **kw: sent.append(alert) or True)
    context = {
        "dag_run": {"dag_id": "complaints_daily", "dag_run_id": "scheduled__2026-10-31"},
        "deadline": {"id": "x", "deadline_time": "2026-11-01T00:00:00Z"},
    }
    asyncio.run(alerts.publication_deadline(context=context))
    assert sent and "complaints_daily" in sent[0].subject
    assert "scheduled__2026-10-31" in sent[0].body
