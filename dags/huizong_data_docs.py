"""Airflow wiring for the Data Docs of validated days. Logic lives in
``huizong.validate.datadocs``.

A DAG of its own, scheduled on the asset the nightly run emits once a day is validated
(``huizong_nightly.docs_due``), so neither the night nor a steward's re-run waits for a
second Great Expectations validation and its rendering. Thin like the nightly DAG: no
heavy imports at parse time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset, Param, dag, task

from huizong.process import skip_final_collection  # stdlib only
from huizong.schedule import VALIDATED_DAY_ASSET, task_defaults  # stdlib only: cheap
from huizong.settings import Settings  # stdlib only too

# A ``dags test`` or task process then exits without its final walk over every object.
skip_final_collection()

VALIDATED_DAY = Asset(name=VALIDATED_DAY_ASSET)

DOC_MD = """
### 汇总 Huizong — Data Docs

Runs whenever **huizong_nightly** has validated a day (the asset `huizong_validated_day`,
whose events name the day): Great Expectations Data Docs of the day's received rows under
`data_docs/<day>/` of the hand-over, readable offline and linked from the review page
(until they are built, the page says 数据文档尚未生成). Several days validated before a
run starts are built in one run, oldest first. Trigger it manually with the param `day`
(YYYY-MM-DD) to rebuild one day's docs.
"""


@dag(
    dag_id="huizong_data_docs",
    description="Great Expectations Data Docs of each validated day",
    schedule=[VALIDATED_DAY],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,  # one site per day folder is written at a time
    default_args=task_defaults(Settings.from_env().task_retry_delay, timedelta(hours=1)),
    params={
        "day": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Rebuild this day's docs (YYYY-MM-DD); empty = the days of the events",
        ),
    },
    tags=["huizong", "data-docs", "validation"],
    doc_md=DOC_MD,
)
def huizong_data_docs() -> None:
    @task
    def build_data_docs(**context: Any) -> list[dict[str, Any]]:
        """Each day the run is for (``huizong.schedule.days_to_document``), its docs built."""
        from datetime import date

        from huizong.schedule import days_to_document
        from huizong.task_settings import settings_for_task
        from huizong.validate.datadocs import data_docs_day

        events = context["triggering_asset_events"].get(VALIDATED_DAY, [])
        days = days_to_document(context["params"].get("day"), [e.extra for e in events])
        settings = settings_for_task()
        return [data_docs_day(date.fromisoformat(day), settings) for day in days]

    build_data_docs()


huizong_data_docs()
