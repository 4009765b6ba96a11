"""huizong.warehouse: the one place engines are made, and readers that never create it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from huizong import warehouse
from huizong.settings import Settings


def test_postgresql_urls_get_psycopg3_and_an_application_name() -> None:
    url = warehouse.normalise_url("postgresql://u@db.example/wh")
    assert url.drivername == "postgresql+psycopg"
    made = warehouse.open_engine("postgresql://u@db.example/wh", application="huizong-test")
    try:
        assert made.dialect.driver == "psycopg"
        assert made.pool.__class__.__name__ == "NullPool"
    finally:
        made.dispose()


def test_settings_select_the_deployments_warehouse(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "var")
    assert not warehouse.exists(settings)
    with warehouse.engine(settings) as engine, engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    assert warehouse.exists(settings)
    assert (tmp_path / "var" / "warehouse.sqlite").is_file()


def test_readers_never_create_the_warehouse(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "var")
    day = date(2020, 1, 28)
    assert warehouse.report_history(settings, day, 14, ["confirmed_total"]).empty
    assert list(warehouse.day_waivers(settings, day).columns) == warehouse.WAIVER_COLUMNS
    assert not (tmp_path / "var").exists()
