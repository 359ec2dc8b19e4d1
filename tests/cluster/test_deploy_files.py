"""deploy/ agrees with the code: every `learncity serve` role has a Compose service and a systemd
unit, each service is given the secrets its role refuses to start without (from the environment,
never written in the file), every variable is a setting learncity reads, and the ports the load
balancer sends to are the ones the roles listen on.

Compose is read as YAML and checked against `bot.roles`, and validated against the Compose
Specification's JSON schema (tests/cluster/compose_spec.json, vendored unchanged from the
`docker-compose` 1.29.2 package on PyPI and Debian, compose/config/compose_spec.json,
Apache-2.0; validated with the jsonschema the Rasa venv already has), after interpolating
`${NAME:-default}` and `${NAME:?message}` as Compose does; so the file is checked without a
Docker engine or Compose installed. `systemd-analyze verify` checks the units (the test fails
when it is not installed).
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.roles import ROLES, MissingSecretError, require_secrets
from core.settings import REPOSITORY_ROOT, Settings
from tests.nlu.rasa_venv import run_in_rasa_venv
from tests.services import require_executable

DEPLOY = REPOSITORY_ROOT / "deploy"
SETTINGS = {name.upper() for name in Settings.model_fields}
# Read by Compose, PostgreSQL's image or Rasa itself, not by learncity's settings.
COMPOSE_ONLY = {
    "POSTGRES_PASSWORD",
    "POSTGRES_MAX_CONNECTIONS",
    "GATEWAY_REPLICAS",
    "RASA_REPLICAS",
    "ACTIONS_REPLICAS",
    "WORKER_REPLICAS",
    "PUBLIC_PORT",
}
SECRETS = {"RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "POSTGRES_PASSWORD"}
ROLE_PORTS = {"gateway": 8000, "rasa": 5005, "actions": 5055}


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def _role_services() -> dict[str, dict[str, Any]]:
    """Role -> its service, for services that run `learncity serve ROLE`."""
    found = {}
    for service in _compose()["services"].values():
        command = service.get("command") or []
        if command[:2] == ["learncity", "serve"]:
            found[command[2]] = service
    return found


def _interpolated(value: str) -> str:
    """What Compose makes of `${NAME:?message}` / `${NAME:-default}` when NAME is set to 'x'."""
    return re.sub(r"\$\{(\w+)(?::[?-][^}]*)?\}", "x", value)


def test_every_role_has_a_compose_service_and_every_service_runs_a_known_role() -> None:
    services = _role_services()
    assert sorted(services) == sorted(ROLES)
    assert {"postgres", "redis", "lb"} <= set(_compose()["services"])


COMPOSE_SPEC = Path(__file__).with_name("compose_spec.json")
VALIDATE = f"""
import json, sys
from jsonschema import Draft201909Validator
schema = json.load(open({str(COMPOSE_SPEC)!r}, encoding="utf-8"))
errors = Draft201909Validator(schema).iter_errors(json.load(sys.stdin))
print("@@" + json.dumps(sorted(("/".join(map(str, e.path)), e.message) for e in errors)))
"""


def _as_compose_reads_it(value: Any) -> Any:
    """`value` with `${NAME:-default}` replaced by the default and `${NAME:?message}` by a
    value, as Compose interpolates with only the required variables set; a scalar that held a
    variable is read again as YAML (`${RASA_REPLICAS:-2}` is the integer 2 to the schema)."""
    if isinstance(value, dict):
        return {key: _as_compose_reads_it(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_compose_reads_it(item) for item in value]
    if isinstance(value, str) and "${" in value:
        done = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)
        done = re.sub(r"\$\{\w+(?::\?[^}]*)?\}", "set-by-the-operator", done)
        return yaml.safe_load(done) if done.strip() else done
    return value


def _schema_errors(document: dict[str, Any]) -> list[list[str]]:
    return run_in_rasa_venv(VALIDATE, stdin=_as_compose_reads_it(document))


def test_compose_file_follows_the_compose_specification() -> None:
    assert _schema_errors(_compose()) == []
    # The schema does find mistakes: a misspelt key, a replica count that is not a number.
    broken = _compose()
    broken["services"]["gateway"]["comand"] = ["learncity", "serve", "gateway"]
    broken["services"]["rasa"]["deploy"]["replicas"] = "${RASA_REPLICAS:-two}"
    found = dict(_schema_errors(broken))
    assert "services/gateway" in found and "comand" in found["services/gateway"]
    assert "is not of type 'integer'" in found["services/rasa/deploy/replicas"]


def test_each_role_gets_the_secrets_it_needs_from_the_environment_only() -> None:
    for role, service in _role_services().items():
        environment = {key: str(value) for key, value in service["environment"].items()}
        for name in SECRETS & set(environment):
            assert re.fullmatch(r"\$\{" + name + r":\?[^}]+\}", environment[name]), (
                f"{role}: {name} must come from the environment and be required"
            )
        settings = Settings(
            **{
                key.lower(): _interpolated(value)
                for key, value in environment.items()
                if key in SETTINGS
            }
        )
        try:
            require_secrets(settings, role)
        except MissingSecretError as error:
            pytest.fail(f"the {role} service would refuse to start: {error}")


def test_every_variable_is_a_learncity_setting_or_compose_s_own() -> None:
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    referenced = set(re.findall(r"\$\{(\w+)", text)) - {"LEARNCITY_CATALOG_PATH"}
    for service in _role_services().values():
        referenced |= set(service["environment"])
    example = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "learncity.env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    assert referenced - SETTINGS - COMPOSE_ONLY == set()
    assert example - SETTINGS - COMPOSE_ONLY == set()
    assert example >= SECRETS, "the example names every secret to fill in"
    secret_values = [
        line
        for line in (DEPLOY / "learncity.env.example").read_text(encoding="utf-8").splitlines()
        if line.split("=", 1)[0] in SECRETS
    ]
    assert all(line.endswith("=") for line in secret_values), "no secret written in the example"


def test_the_roles_listen_where_the_load_balancer_and_the_other_roles_look() -> None:
    services = _role_services()
    for role, port in ROLE_PORTS.items():
        environment = {key: str(value) for key, value in services[role]["environment"].items()}
        settings = Settings(
            **{key.lower(): _interpolated(v) for key, v in environment.items() if key in SETTINGS}
        )
        listening = {
            "gateway": settings.gateway_port,
            "rasa": int(settings.rasa_url.rsplit(":", 1)[1]),
            "actions": int(settings.action_server_url.split(":")[2].split("/")[0]),
        }[role]
        assert listening == port, role
        interface = {
            "gateway": settings.gateway_host,
            "rasa": settings.rasa_interface,
            "actions": settings.action_server_interface,
        }[role]
        assert interface == "0.0.0.0", f"{role} must listen beyond its container"
    haproxy = (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8")
    for role, port in ROLE_PORTS.items():
        assert re.search(rf"server-template \w+ \d+ {role}:{port} ", haproxy), role
    gateway_env = services["gateway"]["environment"]
    rasa_env = services["rasa"]["environment"]
    assert gateway_env["RASA_URL"] == "http://lb:5005"
    assert rasa_env["ACTION_SERVER_URL"] == gateway_env["ACTION_SERVER_URL"]
    assert re.search(r"bind :5005\b", haproxy) and re.search(r"bind :5055\b", haproxy)


# What each role answers without a secret when it is up (bot/health.py, bot/action_server.py,
# Rasa's own /version); the load balancer asks the same paths.
HEALTH_PATHS = {"gateway": "/health/live", "rasa": "/version", "actions": "/health"}


def _role_settings(service: dict[str, Any]) -> Settings:
    environment = {key: str(value) for key, value in service["environment"].items()}
    return Settings(
        **{key.lower(): _interpolated(v) for key, v in environment.items() if key in SETTINGS}
    )


def test_every_serving_role_has_a_healthcheck_on_its_own_port_and_path() -> None:
    services = _role_services()
    for role, path in HEALTH_PATHS.items():
        check = services[role].get("healthcheck")
        assert check, f"{role} has no healthcheck"
        command = " ".join(check["test"])
        assert f"http://127.0.0.1:{ROLE_PORTS[role]}{path}" in command, (role, command)
        assert check["test"][0] == "CMD" and check["test"][1] == "python", "python is in the image"
    haproxy = (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8")
    for path in ("/health/ready", HEALTH_PATHS["rasa"], HEALTH_PATHS["actions"]):
        assert f"option httpchk GET {path}\n" in haproxy, path
    for store in ("postgres", "redis"):
        assert _compose()["services"][store]["healthcheck"]["test"], store


def test_roles_start_after_the_stores_and_the_one_time_preparation() -> None:
    compose = _compose()
    for role, service in _role_services().items():
        needs = service["depends_on"]
        assert needs["prepare"]["condition"] == "service_completed_successfully", role
        assert needs["redis"]["condition"] == "service_healthy", role
    prepare = compose["services"]["prepare"]
    assert prepare["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "learncity db upgrade" in " ".join(prepare["command"])
    assert "learncity train" in " ".join(prepare["command"])
    assert set(compose["services"]["lb"]["depends_on"]) == set(ROLE_PORTS)


def test_every_role_shares_the_stores_and_the_trained_models() -> None:
    compose = _compose()
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith("."):
                assert (DEPLOY / source).is_file(), f"{name}: {source} is not in deploy/"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
    for role, service in {**_role_services(), "prepare": compose["services"]["prepare"]}.items():
        settings = _role_settings(service)
        assert settings.sqlalchemy_url.startswith("postgresql+psycopg2://"), role
        assert settings.redis_url.startswith("redis://redis:6379"), role
        mounts = dict(volume.split(":")[:2] for volume in service["volumes"])
        assert mounts.get("models") == str(settings.models_dir), (
            f"{role}: the models volume must be mounted at LEARNCITY_MODELS_DIR"
        )
    assert compose["services"]["postgres"]["volumes"] == ["postgres:/var/lib/postgresql/data"]
    assert compose["services"]["redis"]["volumes"] == ["redis:/data"]


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


def test_every_role_has_a_systemd_unit_that_serves_it_and_restarts_on_failure() -> None:
    units = DEPLOY / "systemd"
    for role in ROLES:
        unit = _unit(units / f"learncity-{role}@.service")
        service = unit["Service"]
        assert f"learncity serve {role}" in service["ExecStart"]
        assert service["EnvironmentFile"] == "/etc/learncity/learncity.env"
        assert service["Restart"] == "on-failure"
        assert service["KillSignal"] == "SIGTERM"  # every role stops and exits 0 on it
    for store in ("postgresql", "redis"):
        assert _unit(units / f"learncity-{store}.service")["Service"]["ExecStart"]


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = require_executable(
        Path(shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"),
        "systemd-analyze",
        "`apt-get install systemd` (the check needs no running systemd)",
    )
    for path in (DEPLOY / "systemd").iterdir():
        name = path.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    units = sorted(str(path) for path in tmp_path.iterdir() if path.suffix == ".service")
    checked = subprocess.run(
        [str(analyze), "verify", "--man=no", *units],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # The units name /opt/learncity and users that exist only where learncity is installed.
    problems = [
        line
        for line in checked.stderr.splitlines()
        if line.strip()
        and "/opt/learncity" not in line
        and "/usr/lib/postgresql" not in line
        and "/usr/bin/redis-server" not in line
    ]
    assert problems == []


def test_serve_rasa_refuses_a_model_file_that_is_not_there(tmp_path: Path) -> None:
    learncity = Path(sys.executable).with_name("learncity")
    missing = tmp_path / "learncity-0000.tar.gz"
    refused = subprocess.run(
        [str(learncity), "serve", "rasa", "--model", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2
    assert f"--model {missing}" in refused.stderr


def test_the_image_leaves_out_local_environments_data_and_secrets() -> None:
    """deploy/Dockerfile copies the checkout and runs `make setup` in it: a developer's venvs
    (their install stamps would make `make setup` skip, their interpreters are host paths),
    data and the operator's env file with its secrets must stay out of the build context.
    (Checked once with Docker 20.10 and a `FROM scratch` / `COPY . /context` probe image: the
    context held none of them, 5.6 GB less.)"""
    ignored = {
        line.strip()
        for line in (REPOSITORY_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git/", ".venv/", ".venv-rasa/", ".data/", ".env", "deploy/learncity.env"} <= ignored
    env_file = _compose()["x-learncity"]["env_file"]
    assert (DEPLOY / env_file).relative_to(REPOSITORY_ROOT).as_posix() in ignored
