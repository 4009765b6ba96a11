"""Defect 7: the review page, the DAG's tasks and the CLI resolve the same settings.

Tasks fell back to the Airflow connection ``huizong_warehouse`` while the plugin read only
the environment, so with the warehouse in a connection the page showed another (empty)
warehouse than the one the night published to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from huizong import settings as settings_module
from huizong.cli import main as cli_main
from huizong.review import store
from huizong.settings import ENV, Settings
from huizong.task_settings import settings_for_task

from .conftest import PERIOD, build_warehouse

ROOT = Path(__file__).resolve().parents[2]


def _variables_read() -> set[str]:
    found: set[str] = set()
    for folder in ("src", "dags", "plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(re.findall(r"HUIZONG_[A-Z][A-Z_]*[A-Z]", path.read_text("utf-8")))
    return found


def test_every_huizong_variable_is_a_settings_field() -> None:
    names = {f.name for f in fields(Settings)}
    read = _variables_read()
    assert "HUIZONG_WAREHOUSE_URL" in read and "HUIZONG_AIRFLOW_API_URL" in read
    read -= {settings_module.REMOVED_DEADLINE_HOURS}  # named only to be refused
    assert read <= set(ENV), sorted(read - set(ENV))
    assert {field for field, _ in ENV.values()} <= names


def test_environment_values_are_parsed_once_and_named_when_wrong(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HUIZONG_PUBLISH_RETRIES", "2")
    monkeypatch.setenv("HUIZONG_MAX_COMPRESSION_RATIO", "99.5")
    monkeypatch.setenv("HUIZONG_AIRFLOW_API_URL", "http://airflow:8080")
    monkeypatch.setenv("HUIZONG_SQL_DIR", str(tmp_path))
    got = Settings.from_env()
    assert (got.publish_retries, got.max_ratio) == (2, 99.5)
    assert got.airflow_api_url == "http://airflow:8080" and got.sql_dir == tmp_path
    monkeypatch.setenv("HUIZONG_MAX_FILE_BYTES", "soon")
    with pytest.raises(ValueError, match="HUIZONG_MAX_FILE_BYTES"):
        Settings.from_env()
    monkeypatch.delenv("HUIZONG_MAX_FILE_BYTES")
    # the old second deadline setting is refused, naming where deadlines live now
    monkeypatch.setenv("HUIZONG_DEADLINE_HOURS", "24")
    with pytest.raises(ValueError, match=r"HUIZONG_DEADLINE_HOURS is gone.*\[deadlines\]"):
        Settings.from_env()
    assert settings_module.Settings is Settings


@pytest.fixture
def warehouse_in_a_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A warehouse named only by the Airflow connection, as a secrets backend would."""
    url = f"sqlite:///{tmp_path / 'wh' / 'warehouse.sqlite'}"
    build_warehouse(tmp_path, url).engine.dispose()
    monkeypatch.delenv("HUIZONG_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("HUIZONG_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("AIRFLOW_CONN_HUIZONG_WAREHOUSE", url)
    return url


def _same_database(a: str, b: str) -> bool:
    from huizong.publish.warehouse import normalise_url

    return normalise_url(a).database == normalise_url(b).database


def test_plugin_task_and_cli_read_the_same_warehouse(
    warehouse_in_a_connection: str, airflow_token: Callable[[str], str]
) -> None:
    url = warehouse_in_a_connection
    assert _same_database(settings_for_task().warehouse, url)
    import runpy

    plugin = runpy.run_path(str(ROOT / "plugins" / "huizong_review.py"))["app"]
    assert not plugin.built  # importing the plugin builds nothing (every task imports it)
    resp = TestClient(plugin).get(
        "/api/runs", headers={"Authorization": f"Bearer {airflow_token('steward_a')}"}
    )
    assert resp.status_code == 200
    assert [r["period"] for r in resp.json()] == [PERIOD]  # the warehouse the night wrote
    app = plugin.app()  # the app the first request built, once
    assert plugin.app() is app and app.state.backend.settings.warehouse
    assert _same_database(app.state.backend.settings.warehouse, url)
    assert cli_main(["review", "assign", "cli_steward", "130903"]) == 0
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        assert store.scopes_for(engine, "cli_steward") == ("130903",)
    finally:
        engine.dispose()


def test_importing_the_plugin_builds_no_app() -> None:
    """Every process that loads plugins imports the plugin module — each task process on a
    worker too; the review app (FastAPI, pandas, its routers) waits for a first request."""
    import subprocess
    import sys

    probe = (
        "import sys, runpy; "
        f"runpy.run_path({str(ROOT / 'plugins' / 'huizong_review.py')!r}); "
        "print(','.join(m for m in ('pandas', 'fastapi', 'huizong.review.app') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1].strip() == ""
