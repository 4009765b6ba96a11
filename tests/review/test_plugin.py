"""The plugin as Airflow loads it: the app mounted at /huizong-review, a nav link, and
authentication still enforced once mounted (Airflow itself does not protect plugin apps)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from huizong.review import store

from .conftest import PERIOD, Warehouse


def test_airflow_loads_the_plugin() -> None:
    from airflow import plugins_manager

    from huizong.review.mount import LazyApp

    apps, _ = plugins_manager.get_fastapi_plugins()
    ours = [a for a in apps if a.get("url_prefix") == "/huizong-review"]
    assert len(ours) == 1 and isinstance(ours[0]["app"], LazyApp)
    assert isinstance(ours[0]["app"].app(), FastAPI)  # the review app, built on demand
    assert not plugins_manager.get_import_errors()
    external_views, _ = plugins_manager._get_ui_plugins()
    (view,) = [v for v in external_views if v.get("href") == "/huizong-review/"]
    assert view["destination"] == "nav"
    (dl,) = [v for v in external_views if v.get("href") == "/huizong-review/downloads/"]
    assert dl["destination"] == "nav" and "汇总下载" in dl["name"]


def test_mounted_app_authenticates_and_links_under_the_prefix(
    warehouse: Warehouse, airflow_token: Callable[[str], str]
) -> None:
    """Mounted the way Airflow's API server mounts plugin apps (``app.mount(prefix, app)``),
    behind the plugin's lazy wrapper."""
    from huizong.review.app import create_app
    from huizong.review.mount import LazyApp

    root = FastAPI()
    lazy = LazyApp(lambda: create_app(warehouse.settings, engine=warehouse.engine))
    root.mount("/huizong-review", lazy)
    client = TestClient(root)
    assert client.get("/huizong-review/").status_code == 401
    client.cookies.set("_token", airflow_token("steward_a"))
    page = client.get(f"/huizong-review/runs/{PERIOD}")
    assert page.status_code == 200
    assert f'href="/huizong-review/runs/{PERIOD}/units/{warehouse.a_error.unit_code}"' in page.text
    assert store.scopes_for(warehouse.engine, "steward_a") == ("130903",)
