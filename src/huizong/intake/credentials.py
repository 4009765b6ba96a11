"""Credentials of a source or notifier: an Airflow connection, never the sources file.

Inside an Airflow task the connection is looked up through Airflow (metadata database,
secrets backend or ``AIRFLOW_CONN_<ID>``). The CLI runs without a task context, so it
reads the same ``AIRFLOW_CONN_<ID>`` variable Airflow itself would read: one convention
for both.
"""

from __future__ import annotations

import os


class MissingConnection(LookupError):
    """No connection with that id: say which variable or connection to create."""


def connection_uri(conn_id: str, *, in_task: bool = False) -> str:
    """The connection's URI (``imap://user:password@host:port``, ``smtp://…``)."""
    if in_task:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            return BaseHook.get_connection(conn_id).get_uri()
        except AirflowNotFoundException as exc:
            raise MissingConnection(_missing(conn_id)) from exc
    uri = os.environ.get(env_name(conn_id))
    if not uri:
        raise MissingConnection(_missing(conn_id))
    return uri


def env_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def _missing(conn_id: str) -> str:
    return (
        f"未配置连接 {conn_id}：请在Airflow中创建该连接，或设置环境变量 {env_name(conn_id)} / "
        f"connection {conn_id} is not configured: create it in Airflow or set {env_name(conn_id)}"
    )
