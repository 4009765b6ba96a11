"""Airflow wiring for the day's deadlines. Logic lives in ``huizong.intake.deadlines``.

One run per reporting day, started just after midnight (Asia/Shanghai). For each level a
deferrable ``DateTimeSensorAsync`` waits for that level's deadline (read from the sources
file at run time) in the triggerer, holding no worker slot; then the chase task pulls the
mailboxes, lists the units not reported yet per township and county, keeps the list for
the review page and notifies the stewards. Airflow's Deadline Alerts were considered and
not used: they fire when a DAG *run* is late (an SLA on the pipeline, experimental), while
this is about reporting units being late, at fixed local times of the day.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.sdk import Param, dag, task

from huizong.process import skip_final_collection  # stdlib only
from huizong.schedule import DEFAULT_DEADLINES, task_defaults  # stdlib only: cheap at parse
from huizong.settings import Settings  # stdlib only too

# A ``dags test`` or task process then exits without its final walk over every object.
skip_final_collection()

DOC_MD = """
### 汇总 Huizong — deadlines

For the **current day**, at each level's deadline (villages/communities and departments
18:00, townships 20:00 by default; `[deadlines]` in the sources file `HUIZONG_SOURCES`):
take the mailboxes, list the units still missing per township and county
(`var/runs/<day>/missing_at_<level>_deadline.json`) and mail each steward their part.
Trigger with the param `day` to chase a given day (a past deadline passes at once).
"""


def _settings() -> Any:
    from huizong.task_settings import settings_for_task

    return settings_for_task()


@dag(
    dag_id="huizong_deadlines",
    description="At each level's deadline, list the units not reported and notify stewards",
    schedule="5 0 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(Settings.from_env().task_retry_delay, timedelta(hours=1)),
    params={
        "day": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Reporting day YYYY-MM-DD; empty = the local day of the run",
        )
    },
    tags=["huizong", "deadlines", "intake"],
    doc_md=DOC_MD,
)
def huizong_deadlines() -> None:
    @task
    def deadline_times(**context: Any) -> dict[str, str]:
        """The day and each level's deadline as ISO times (for the sensors' templates)."""
        from datetime import date

        from huizong.intake.config import load_sources
        from huizong.intake.deadlines import deadline_of
        from huizong.schedule import chase_day_for

        day = chase_day_for(context["params"].get("day"), context["dag_run"].run_after)
        config = load_sources(_settings().sources)
        at = {
            lv: deadline_of(date.fromisoformat(day), lv, config).isoformat()
            for lv in config.deadlines
        }
        return {"day": day, **at}

    @task
    def chase(times: dict[str, str], level: str) -> dict[str, Any]:
        from datetime import date

        from huizong.intake.deadlines import run_deadline

        return run_deadline(date.fromisoformat(times["day"]), level, _settings(), in_task=True)

    times = deadline_times()
    for level in DEFAULT_DEADLINES:
        wait = DateTimeSensorAsync(
            task_id=f"wait_{level}",
            target_time="{{ ti.xcom_pull(task_ids='deadline_times')['" + level + "'] }}",
            timeout=timedelta(hours=30).total_seconds(),
        )
        times >> wait >> chase.override(task_id=f"chase_{level}")(times, level)


huizong_deadlines()
