"""What a DAG task uses for settings: the one resolution, :meth:`Settings.resolve`
(environment, then Airflow's connection ``huizong_warehouse`` for the warehouse)."""

from __future__ import annotations

from huizong.settings import Settings


def settings_for_task() -> Settings:
    """The settings of a task, identical to the review plugin's and the CLI's."""
    return Settings.resolve()
