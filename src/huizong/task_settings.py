"""Settings inside an Airflow task: the environment first, then Airflow's own connections.

Operators may keep the warehouse credentials in an Airflow connection (id
``huizong_warehouse``, e.g. from a secrets backend) instead of ``HUIZONG_WAREHOUSE_URL``.
Airflow is imported only when this is called, never by the plain package.
"""

from __future__ import annotations

from dataclasses import replace

from huizong.settings import Settings

WAREHOUSE_CONN_ID = "huizong_warehouse"


def settings_for_task() -> Settings:
    settings = Settings.from_env()
    if settings.warehouse_url:
        return settings
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(WAREHOUSE_CONN_ID)
    except AirflowNotFoundException:
        return settings
    return replace(settings, warehouse_url=conn.get_uri())
