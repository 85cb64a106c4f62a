"""The deployment takes the Fernet key and the admin's credentials from .env, with no defaults.

test_deployment_files.py checks the ``${VAR:?message}`` form in the text. Here the compose file
is resolved the way ``docker compose config`` resolves it (``$$`` escapes, ``${VAR:?msg}``
fails on an unset or empty variable, ``${VAR:-default}``), with ``.env.example`` as it is and
with a filled-in environment, and the resolved services are checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yaml"
EXAMPLE = ROOT / ".env.example"
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer", "airflow-worker", "airflow-init")  # fmt: skip
TOKEN = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")


class Missing(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation of ``text`` under ``env`` (the subset the compose file uses)."""

    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
        value = env.get(name)
        if op == ":?" and not value:
            raise Missing(f"{name}: {arg}")
        if op == "?" and value is None:
            raise Missing(f"{name}: {arg}")
        if op == ":-" and not value:
            return arg
        if op == "-" and value is None:
            return arg
        return value or ""

    return TOKEN.sub(one, text)


def missing(env: dict[str, str]) -> set[str]:
    """Every variable whose absence stops the compose file (not just the first)."""
    names: set[str] = set()
    text = COMPOSE.read_text()
    while True:
        try:
            interpolate(text, {**env, **{n: "set" for n in names}})
            return names
        except Missing as exc:
            names.add(str(exc).split(":", 1)[0])


def read_env(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


FILLED = {
    **read_env(EXAMPLE),
    "POSTGRES_PASSWORD": "pg-pass-0f3a9c",
    "AIRFLOW_FERNET_KEY": "x4bQmZr0b6C5cJ0kq0m3a1y7vQ2sZr2VxvN8q5pXh6k=",
    "AIRFLOW_JWT_SECRET": "jwt-secret-51c2e7",
    "AIRFLOW_API_SECRET_KEY": "api-secret-9d8e7f",
    "AIRFLOW_ADMIN_USERNAME": "operator",
    "AIRFLOW_ADMIN_PASSWORD": "admin-pass-7b1e22",
    "COMPLAINTS_HASH_KEY": "ab" * 32,
}


@pytest.fixture(scope="module")
def resolved() -> dict:
    return yaml.safe_load(interpolate(COMPOSE.read_text(), FILLED))


def test_env_example_as_shipped_does_not_start():
    stopped = missing(read_env(EXAMPLE))
    for name in ("AIRFLOW_FERNET_KEY", "AIRFLOW_ADMIN_PASSWORD", "AIRFLOW_JWT_SECRET",
                 "AIRFLOW_API_SECRET_KEY", "POSTGRES_PASSWORD", "COMPLAINTS_HASH_KEY"):  # fmt: skip
        assert name in stopped, f"an empty {name} must stop docker compose"


@pytest.mark.parametrize(
    "name", ["AIRFLOW_FERNET_KEY", "AIRFLOW_ADMIN_USERNAME", "AIRFLOW_ADMIN_PASSWORD"]
)
def test_each_credential_is_required_with_a_message(name):
    for value in (None, ""):
        env = {k: v for k, v in FILLED.items() if k != name}
        if value is not None:
            env[name] = value
        with pytest.raises(Missing, match=rf"^{name}: set {name} in \.env"):
            interpolate(COMPOSE.read_text(), env)
    assert missing(FILLED) == set()


def test_every_airflow_service_gets_the_fernet_key_from_env(resolved):
    for service in AIRFLOW_SERVICES:
        env = resolved["services"][service]["environment"]
        assert env["AIRFLOW__CORE__FERNET_KEY"] == FILLED["AIRFLOW_FERNET_KEY"], service
    assert "x4bQmZr0" not in COMPOSE.read_text()


def test_admin_credentials_come_from_env_and_the_password_stays_in_init(resolved):
    users = resolved["x-airflow-common"]["environment"]["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"]
    assert users == "operator:admin"
    init = resolved["services"]["airflow-init"]
    assert init["environment"]["AIRFLOW_ADMIN_USERNAME"] == "operator"
    assert init["environment"]["AIRFLOW_ADMIN_PASSWORD"] == FILLED["AIRFLOW_ADMIN_PASSWORD"]
    # only the one-shot init container sees the password; workers run tasks and must not
    for service in AIRFLOW_SERVICES[:-1]:
        values = [str(v) for v in resolved["services"][service]["environment"].values()]
        assert not any(FILLED["AIRFLOW_ADMIN_PASSWORD"] in v for v in values), service
    script = "\n".join(init["command"])
    assert FILLED["AIRFLOW_ADMIN_PASSWORD"] not in script, "read from the environment at run time"
    assert "set -x" not in script and not re.search(r"echo[^\n]*PASSWORD", script)
    assert "0o600" in script


def test_the_password_file_lives_on_a_named_volume(resolved):
    path = resolved["x-airflow-common"]["environment"][
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
    ]
    mounts = [v.split(":") for v in resolved["x-airflow-common"]["volumes"]]
    holder = [m for m in mounts if Path(path).is_relative_to(m[1])]
    assert holder, f"{path} is on a mounted volume"
    assert not holder[0][0].startswith((".", "/")), "a named volume, not a folder of the repo"
    assert holder[0][0] in resolved["volumes"]
