"""Airflow-style connections outside Airflow: URIs, JSON, SQLAlchemy URLs, and no leaked secret."""

from __future__ import annotations

import json
import logging

import pytest

from complaints.connections import ConnectionNotFound, get_connection, parse_uri
from complaints.privacy import install_log_redaction


def test_uri_forms():
    c = parse_uri("x", "postgresql://etl:p%40ss@db.local:5432/lapor")
    assert (c.host, c.port, c.login, c.password, c.schema) == (
        "db.local",
        5432,
        "etl",
        "p@ss",
        "lapor",
    )
    assert c.sqlalchemy_url == "postgresql+psycopg2://etl:p%40ss@db.local:5432/lapor"
    assert parse_uri("x", "mysql://root@127.0.0.1:3306/test").sqlalchemy_url == (
        "mysql+pymysql://root@127.0.0.1:3306/test"
    )
    assert parse_uri("x", "sqlite:////var/data/a.sqlite").sqlalchemy_url == (
        "sqlite:////var/data/a.sqlite"
    )
    http = parse_uri("x", "http://:tok@127.0.0.1:8080")
    assert http.base_url == "http://127.0.0.1:8080" and http.password == "tok"


def test_json_form_and_extra():
    c = parse_uri("x", json.dumps({"conn_type": "smtp", "host": "mail", "port": 25,
                                   "login": "u", "password": "secret-pw",
                                   "extra": {"starttls": True}}))  # fmt: skip
    assert (c.host, c.port, c.extra) == ("mail", 25, {"starttls": True})
    assert "secret-pw" not in repr(c)


def test_missing_connection_says_how_to_define_it(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_NOPE", raising=False)
    with pytest.raises(ConnectionNotFound, match="AIRFLOW_CONN_NOPE"):
        get_connection("nope")


def test_a_resolved_password_is_redacted_from_logs(monkeypatch, caplog):
    monkeypatch.setenv("AIRFLOW_CONN_API_T", "http://:token-9f8e7d6c@127.0.0.1:1")
    conn = get_connection("api_t")
    logger = logging.getLogger("complaints.test")
    logger.addHandler(caplog.handler)
    install_log_redaction(logger)
    with caplog.at_level(logging.INFO, logger="complaints.test"):
        logger.info("calling with %s", conn.password)
    assert "token-9f8e7d6c" not in caplog.text and "***" in caplog.text
