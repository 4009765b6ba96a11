"""Inside a task the warehouse may come from an Airflow connection."""

from __future__ import annotations

import pytest

from huizong.publish.warehouse import normalise_url
from huizong.task_settings import settings_for_task


def test_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", "sqlite:////tmp/x.sqlite")
    monkeypatch.setenv("AIRFLOW_CONN_HUIZONG_WAREHOUSE", "postgresql://u@db:5432/w")
    assert settings_for_task().warehouse == "sqlite:////tmp/x.sqlite"


def test_airflow_connection_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUIZONG_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_HUIZONG_WAREHOUSE", "postgresql://u@db:5432/w")
    url = normalise_url(settings_for_task().warehouse)
    assert (url.drivername, url.host, url.database) == ("postgresql+psycopg", "db", "w")


def test_no_connection_means_the_sqlite_default(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("HUIZONG_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_HUIZONG_WAREHOUSE", raising=False)
    monkeypatch.setenv("HUIZONG_HOME", str(tmp_path))
    assert settings_for_task().warehouse == f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
