"""The deployment files agree with the pinned environment and keep every secret out of git."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
SERVICES = {
    "postgres",
    "redis",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
}
#: anything that looks like a secret must come from .env with ${VAR:?message}
SECRET_WORDS = ("PASSWORD", "SECRET", "KEY", "TOKEN", "CONN_", "EMAILS", "USER")
VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}")


def _pinned_airflow() -> str:
    text = (ROOT / "requirements.txt").read_text()
    match = re.search(r"^apache-airflow(?:\[[^\]]*\])?==([\w.]+)\s*$", text, re.M)
    assert match, "requirements.txt pins apache-airflow"
    return match.group(1)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_has_the_official_services(compose):
    assert SERVICES <= set(compose["services"])
    assert "x-airflow-common" in compose
    common = compose["x-airflow-common"]
    assert common["build"]["dockerfile"] == "Dockerfile"
    env = common["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
    for name in SERVICES - {"postgres", "redis"}:
        service = compose["services"][name]
        # YAML merge keys: each Airflow service is built from the common anchor
        assert service["build"] == common["build"], name
        assert service["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
    commands = {n: compose["services"][n].get("command") for n in SERVICES}
    assert commands["airflow-apiserver"] == "api-server"
    assert commands["airflow-scheduler"] == "scheduler"
    assert commands["airflow-dag-processor"] == "dag-processor"
    assert commands["airflow-triggerer"] == "triggerer"
    assert commands["airflow-worker"] == "celery worker"
    init = "\n".join(compose["services"]["airflow-init"]["command"])
    assert "airflow db migrate" in init
    for pool in ("connector_http", "connector_sql", "connector_file"):
        assert pool in init


def test_project_folders_are_mounted_and_the_warehouse_is_a_named_volume(compose):
    volumes = compose["x-airflow-common"]["volumes"]
    for folder in ("dags", "plugins", "include"):
        assert any(v.startswith(f"./{folder}:") for v in volumes), folder
    env = compose["x-airflow-common"]["environment"]
    data = env["COMPLAINTS_DATA_DIR"]
    named = [v.split(":", 1)[0] for v in volumes if v.split(":", 1)[1] == data]
    assert named and named[0] in compose["volumes"], "the warehouse lives on a named volume"
    assert env["COMPLAINTS_WAREHOUSE"].startswith(data)
    assert env["COMPLAINTS_ENV"] == "deploy"


def test_airflow_version_matches_the_pin(compose):
    pinned = _pinned_airflow()
    base = re.search(r"^FROM\s+apache/airflow:(\S+)", DOCKERFILE.read_text(), re.M)
    assert base, "the Dockerfile starts from the official image"
    assert base.group(1).split("-")[0] == pinned
    tags = re.findall(r"apache/airflow:([\w.]+)|airflow:([\d.]+)\}", COMPOSE.read_text())
    for tag in {t for pair in tags for t in pair if t}:
        assert tag == pinned, tag


def test_requirements_are_installed_with_the_constraints():
    text = DOCKERFILE.read_text()
    assert re.search(r"pip install[^\n]*-r requirements\.txt[^\n]*-c constraints\.txt", text)
    assert re.search(r"pip install[^\n]*--no-deps[^\n]*-e \.", text)
    assert "COPY" in text and "constraints.txt" in text


def _variables(text: str):
    text = text.replace("$$", "")  # $${HOSTNAME} is the container's shell variable, not .env's
    for match in VAR.finditer(text):
        yield match.group("name"), match.group("op"), match.group("arg")


def test_no_secret_has_a_default():
    text = COMPOSE.read_text()
    seen = set()
    for name, op, arg in _variables(text):
        seen.add(name)
        if any(word in name for word in SECRET_WORDS):
            assert op == ":?", f"${{{name}}} must be required (${{{name}:?message}}), not {op}"
            assert arg.strip(), f"${{{name}:?}} needs a message saying what to set"
    for required in (
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_ADMIN_PASSWORD",
        "COMPLAINTS_HASH_KEY",
        "AIRFLOW_CONN_SMTP_DEFAULT",
        "POSTGRES_PASSWORD",
    ):
        assert required in seen, f"{required} comes from .env"
    # no literal credentials either: no user:password@ in a URL except ${...} parts
    for url in re.findall(r"\w+://[^\s'\"]+@", text):
        assert "${" in url, url


def test_env_example_names_every_variable_and_holds_no_secret():
    example = ROOT / ".env.example"
    names = {
        line.split("=", 1)[0]
        for line in example.read_text().splitlines()
        if line and not line.startswith("#") and "=" in line
    }
    used = {name for name, _op, _arg in _variables(COMPOSE.read_text())}
    required = {name for name, op, _ in _variables(COMPOSE.read_text()) if op == ":?"}
    assert required <= names, required - names
    assert used - names <= {"COMPLAINTS_IMAGE"}
    for line in example.read_text().splitlines():
        key, _, value = line.partition("=")
        if any(w in key for w in ("PASSWORD", "SECRET", "FERNET", "HASH_KEY")):
            assert value == "", f"{key} must be empty in .env.example"


def test_dot_env_is_ignored():
    lines = {line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()}
    assert ".env" in lines
