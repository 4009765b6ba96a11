"""The warehouse from Airflow's connection ``huizong_warehouse`` when no URL is set.

Operators may keep the warehouse credentials in an Airflow connection (e.g. from a
secrets backend) instead of ``HUIZONG_WAREHOUSE_URL``. Part of :meth:`Settings.resolve`,
so tasks, the review plugin and the CLI all end at the same warehouse. Airflow is
imported only when this is called, and only if it is installed.
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace

from huizong.settings import Settings

WAREHOUSE_CONN_ID = "huizong_warehouse"


def with_airflow_warehouse(settings: Settings) -> Settings:
    """``settings`` with the connection's URL as warehouse when none is set."""
    if settings.warehouse_url or importlib.util.find_spec("airflow") is None:
        return settings
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(WAREHOUSE_CONN_ID)
    except AirflowNotFoundException:
        return settings
    return replace(settings, warehouse_url=conn.get_uri())


def settings_for_task() -> Settings:
    """What a DAG task uses: the one resolution (kept for the DAG's import)."""
    return Settings.resolve()
