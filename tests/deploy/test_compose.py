"""The docker-compose deployment would start: checked offline, since no Docker engine runs.

Debian's ``docker-compose`` (1.29) resolves and validates the file without an engine.
CI (``HUIZONG_REQUIRE_COMPOSE=1``) fails when the tool is missing; elsewhere the test
says how to install it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yaml"
WRITE_ENV = ROOT / "docker" / "write_env.py"
AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
)


def _compose_tool() -> str:
    tool = shutil.which("docker-compose")
    if tool:
        return tool
    if os.environ.get("HUIZONG_REQUIRE_COMPOSE") == "1":
        pytest.fail(
            "docker-compose missing (HUIZONG_REQUIRE_COMPOSE=1): apt-get install docker-compose"
        )
    pytest.skip(
        "docker-compose not installed: apt-get install docker-compose (or make test as root)"
    )


def _write_env(target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(WRITE_ENV), str(target)], capture_output=True, text=True, check=False
    )


def _env_values(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {name: value for name, value in pairs if not name.startswith("#")}


def _config(tool: str, env_file: Path | None) -> subprocess.CompletedProcess[str]:
    args = [tool, "--project-directory", str(ROOT), "-f", str(COMPOSE)]
    if env_file is not None:
        args += ["--env-file", str(env_file)]
    # A clean environment: only .env may supply the secrets.
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    return subprocess.run(
        [*args, "config"], capture_output=True, text=True, check=False, env=env, cwd=ROOT
    )


@pytest.fixture(scope="module")
def generated_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("compose") / ".env"
    result = _write_env(target)
    assert result.returncode == 0, result.stderr
    return target


@pytest.fixture(scope="module")
def resolved(generated_env: Path) -> dict:
    """The compose file as docker-compose resolves it with a generated .env."""
    result = _config(_compose_tool(), generated_env)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_config_is_valid_with_a_generated_env(generated_env: Path) -> None:
    tool = _compose_tool()
    args = [tool, "--project-directory", str(ROOT), "-f", str(COMPOSE)]
    check = subprocess.run(
        [*args, "--env-file", str(generated_env), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")},
    )
    assert check.returncode == 0, check.stderr


def test_no_secret_has_a_default_in_the_file(tmp_path: Path) -> None:
    """Without the operator's .env, compose refuses instead of starting with known secrets."""
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = _config(_compose_tool(), empty)
    assert result.returncode != 0
    assert "make docker-env" in result.stderr


def test_simple_auth_manager_users_not_fab_variables(resolved: dict, generated_env: Path) -> None:
    values = _env_values(generated_env)
    for name in AIRFLOW_SERVICES:
        env = resolved["services"][name]["environment"]
        # FAB auth manager only: its `airflow users` command does not exist here.
        assert not [key for key in env if key.startswith("_AIRFLOW_WWW_USER")], name
        assert (
            env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"]
            == f"{values['AIRFLOW_ADMIN_USER']}:admin"
        )
        assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"].startswith(
            "/opt/airflow/config/"
        )
    init = resolved["services"]["airflow-init"]
    assert init["environment"]["AIRFLOW_ADMIN_PASSWORD"] == values["AIRFLOW_ADMIN_PASSWORD"]
    assert "simple_auth_manager_passwords.json" in " ".join(init["command"])


def test_every_component_shares_the_generated_secrets(resolved: dict, generated_env: Path) -> None:
    values = _env_values(generated_env)
    expected = {
        "AIRFLOW__CORE__FERNET_KEY": values["AIRFLOW_FERNET_KEY"],
        "AIRFLOW__API_AUTH__JWT_SECRET": values["AIRFLOW_JWT_SECRET"],
        "AIRFLOW__API__SECRET_KEY": values["AIRFLOW_API_SECRET_KEY"],
    }
    assert all(expected.values())
    for name in AIRFLOW_SERVICES:
        env = resolved["services"][name]["environment"]
        for key, value in expected.items():
            assert env[key] == value, (name, key)
        assert values["AIRFLOW_DB_PASSWORD"] in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert values["HUIZONG_DB_PASSWORD"] in env["HUIZONG_WAREHOUSE_URL"]
    postgres = resolved["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_PASSWORD"] == values["AIRFLOW_DB_PASSWORD"]
    assert postgres["HUIZONG_DB_PASSWORD"] == values["HUIZONG_DB_PASSWORD"]


def test_every_long_running_component_has_a_healthcheck(resolved: dict) -> None:
    services = resolved["services"]
    for name in set(AIRFLOW_SERVICES) - {"airflow-init"} | {"postgres", "redis"}:
        assert services[name].get("healthcheck", {}).get("test"), name
    assert "celery" in " ".join(services["airflow-worker"]["healthcheck"]["test"])
    assert "DagProcessorJob" in " ".join(services["airflow-dag-processor"]["healthcheck"]["test"])
    assert "TriggererJob" in " ".join(services["airflow-triggerer"]["healthcheck"]["test"])


def test_generated_env_is_fresh_private_and_never_overwritten(tmp_path: Path) -> None:
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    assert _write_env(first).returncode == 0
    assert _write_env(second).returncode == 0
    assert first.stat().st_mode & 0o077 == 0
    a, b = _env_values(first), _env_values(second)
    assert a.keys() == b.keys()
    assert a["AIRFLOW_JWT_SECRET"] != b["AIRFLOW_JWT_SECRET"]
    before = first.read_text()
    refused = _write_env(first)
    assert refused.returncode == 1
    assert "not overwritten" in refused.stderr
    assert first.read_text() == before


def test_dockerfile_make_targets_exist() -> None:
    """The Dockerfile's comments send the operator to make targets: they must exist."""
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    targets = set(re.findall(r"make ([a-z][a-z-]+)", dockerfile + COMPOSE.read_text()))
    assert {"docker-requirements", "docker-env"} <= targets
    for target in targets:
        dry = subprocess.run(
            ["make", "-n", "-C", str(ROOT), target], capture_output=True, text=True, check=False
        )
        assert dry.returncode == 0, (target, dry.stderr)


def test_image_requirements_match_the_lock(tmp_path: Path) -> None:
    """docker/requirements.txt is uv.lock's export: the image runs the versions CI tested."""
    uv = ROOT / ".tools" / "bin" / "uv"
    assert uv.exists(), "uv is not in .tools: run make install (make test does)"
    out = tmp_path / "requirements.txt"
    subprocess.run(
        [
            str(uv),
            "export",
            "--quiet",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-project",
            "-o",
            str(out),
        ],
        cwd=ROOT,
        check=True,
    )

    def pins(path: Path) -> list[str]:  # the header names the output path: leave it out
        return [line for line in path.read_text().splitlines() if not line.startswith("#")]

    assert pins(ROOT / "docker" / "requirements.txt") == pins(out), (
        "run `make docker-requirements` after changing uv.lock"
    )
