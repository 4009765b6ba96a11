"""Airflow wiring for the nightly roll-up. Logic lives in ``huizong.pipeline``.

Kept thin on purpose: no I/O and no heavy imports at parse time (pandas and Great
Expectations are imported inside the tasks), data passes between tasks as files in the
hand-over (``HUIZONG_HANDOVER_URL``, see ``huizong.handover``) that every Celery worker
reaches, and XCom carries only the reporting day and small summaries.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset, Param, TriggerRule, dag, task

from huizong.process import skip_final_collection  # stdlib only
from huizong.schedule import (  # stdlib only: cheap at parse time
    NIGHT_HOUR,
    VALIDATED_DAY_ASSET,
    task_defaults,
)
from huizong.settings import NIGHT_OFF, Settings  # stdlib only too

# A ``dags test`` or task process then exits without its final walk over every object.
skip_final_collection()

PARSED = Settings.from_env()
#: After every level's deadline of the day before (``HUIZONG_NIGHT_SCHEDULE``: another
#: cron, or ``off`` for triggered runs only).
SCHEDULE = (
    None
    if PARSED.night_schedule == NIGHT_OFF
    else (PARSED.night_schedule or f"0 {NIGHT_HOUR} * * *")
)
#: The tasks both paths lead to: after the full path's step, or after ``fast_path`` when
#: the full path was skipped (never after a failure).
JOIN = TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS
#: The tasks ``fast_path`` leads to on either path; the full path starts at the other one.
JOIN_TASKS = ("docs_due", "workbook", "periods")
FULL_PATH_START = "ingest_plan"
#: The XCom key of the fast path's summary (its return value is the branch it chose).
FAST_SUMMARY = "summary"
#: "The day is validated": what ``huizong_data_docs`` is scheduled on.
VALIDATED_DAY = Asset(name=VALIDATED_DAY_ASSET)

DOC_MD = """
### 汇总 Huizong — nightly roll-up

Every night at 02:00 Asia/Shanghai, for the **previous day**:

0. **pull_sources**: take the mailboxes of the sources file (`HUIZONG_SOURCES`) into
   the days' inboxes, each file timed by the server's receipt (nothing to do without one);
   **fast_path**: a run with the param `trigger` = `correction` or `late` (the review
   page's re-run sends `correction`) first re-publishes the day reading only the files
   added since its last complete run and writing only the changed rows
   (`huizong.pipeline.correct_day`, as `huizong run` does); when it could, the branch
   skips steps 1-4 (and mail_receipts) and the workbook, periods and docs_due follow it;
   otherwise (any other run, or an earlier file changed) the full path runs too;
1. **ingest** every file in the day's inbox folder (`$HUIZONG_INBOX/<day>/`, default
   `var/inbox/<day>/`) into the submission ledger: **ingest_plan** stores and times the
   files and cuts them into partitions (`HUIZONG_INGEST_PART_FILES`, 2,000 files each),
   **ingest_part** reads each partition (mapped: side by side on the workers, retried
   alone), **ingest_merge** puts them back in order (later revisions supersede earlier
   ones) and sends files for earlier days, within the late window, to those days;
   the inbox listing is taken before the files are read and kept once published (what the
   next correction's fast path compares);
2. **validate** the rows against the Great Expectations suites (`expectations/`, checked
   as one vectorised pass, `HUIZONG_VALIDATION_ENGINE`); failing rows go to `quarantine` with a
   reason in Chinese and English, warnings pass and are recorded;
3. **roll up** village/community → township → county → city by each indicator's rule,
   with completeness and timeliness for every unit;
4. **publish** the day atomically to the warehouse (`HUIZONG_WAREHOUSE_URL`);
5. **workbook**: the consolidated Excel workbook under `out/<day>/` of the hand-over;
   **periods** (after publish): the week, 旬 and month containing the day, brought up
   to date from the published days into `period_consolidated` / `period_completeness`;
6. **mail_receipts** (after validate, beside the roll-up; off by default): each mail
   sender's receipt (回执) of what was accepted and quarantined and why;
7. **docs_due** (after validate, beside the roll-up): an event of the asset
   `huizong_validated_day` naming the day, on which the DAG **huizong_data_docs** builds
   the day's Great Expectations Data Docs (`data_docs/<day>/` of the hand-over, readable
   offline, linked from the review page): this run never waits for the docs.

Trigger manually with the param `day` (YYYY-MM-DD) to (re)run a given reporting day;
re-running a day replaces it and gives identical tables. A day whose inbox folder is
missing or empty fails at **ingest_plan** at once, without retries (nothing is published;
a re-run queued behind it starts right after), unless the param `allow_empty` is true.
"""

LOCAL_TZ = "Asia/Shanghai"
NOT_RETRIED = "收件箱为空是确定的结果，不重试 / an empty inbox is a definite answer: not retried"


def _settings() -> Any:
    from huizong.task_settings import settings_for_task

    return settings_for_task()


def _trigger(context: Any) -> str:
    """What the run's version records as its cause: the param, else from the run type."""
    from huizong.schedule import publish_trigger

    return publish_trigger(context["params"].get("trigger"), context["dag_run"].run_type)


def _step(name: str, day: str, **options: Any) -> Any:
    """One pipeline step under the day's run lock, so a ``huizong run`` of the same day
    never interleaves with it (``max_active_runs=1`` already serialises the DAG's runs)."""
    from datetime import date

    from huizong import pipeline
    from huizong.runlock import day_lock

    reporting_day, settings = date.fromisoformat(day), _settings()
    with day_lock(settings, reporting_day):
        return getattr(pipeline, name)(reporting_day, settings, **options)


@dag(
    dag_id="huizong_nightly",
    description="Nightly roll-up of village, community and department daily reports",
    schedule=SCHEDULE,
    start_date=pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(PARSED.task_retry_delay, timedelta(hours=2)),
    params={
        "day": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Reporting day YYYY-MM-DD; empty = the day before the run (Asia/Shanghai)",
        ),
        "allow_empty": Param(
            False,
            type="boolean",
            description="Publish the day even if its inbox folder is missing or empty",
        ),
        "trigger": Param(
            None,
            type=["null", "string"],
            enum=[None, "nightly", "correction", "late", "backfill", "manual"],
            description="What the new version records as its cause; empty = from the run type",
        ),
    },
    tags=["huizong", "roll-up", "nightly"],
    doc_md=DOC_MD,
)
def huizong_nightly() -> None:
    @task
    def reporting_day(**context: Any) -> str:
        """The param if given, else the local calendar day before the run."""
        from huizong.schedule import reporting_day_for

        return reporting_day_for(context["params"].get("day"), context["dag_run"].run_after)

    @task
    def pull_sources(day: str) -> dict[str, Any]:
        """Mail first, so the night reads everything that arrived (a down mailbox fails
        the task, and its retries, instead of publishing without the mail)."""
        from huizong.intake.pull import pull_sources as pull

        return pull(_settings(), in_task=True)

    @task.branch
    def fast_path(day: str, _pulled: dict[str, Any], **context: Any) -> list[str]:
        """A correction or late file: the day re-published from only the added files, and
        the joins follow at once; else (any other trigger, no complete earlier run, an
        earlier file changed: ``correct_day`` says why) the full path from ``ingest_plan``
        runs too. Its summary is the XCom ``summary``: the steps' own, with ``taken``."""
        run_id = context["dag_run"].run_id
        summary = _step("correct_day", day, trigger=_trigger(context), run_id=run_id, in_task=True)
        shown = {"taken": False} if summary is None else {"taken": True, **summary}
        context["ti"].xcom_push(key=FAST_SUMMARY, value=shown)
        return list(JOIN_TASKS) if shown["taken"] else [FULL_PATH_START, *JOIN_TASKS]

    @task
    def ingest_plan(day: str, **context: Any) -> list[int]:
        """Store and time every file; the partitions to read. Refuses a day without files
        unless the param ``allow_empty`` is set: at once and without retries, since an
        empty inbox is an answer, not a fault a retry could cure (its retries held every
        re-run queued behind it for minutes, ``max_active_runs=1``)."""
        from airflow.sdk.exceptions import AirflowFailException

        from huizong.pipeline import EmptyInbox

        allow_empty = bool(context["params"].get("allow_empty"))
        try:
            return _step("ingest_plan_day", day, allow_empty=allow_empty)["parts"]
        except EmptyInbox as exc:
            raise AirflowFailException(f"{exc} [{NOT_RETRIED}]") from None

    @task
    def ingest_part(day: str, part: int) -> dict[str, Any]:
        """One partition's files read, on any worker, retried alone. Not under the day's
        lock, so partitions run side by side: each writes only its own files, which only
        ``ingest_merge`` (under the lock) reads."""
        from datetime import date

        from huizong import pipeline

        return pipeline.ingest_part_day(date.fromisoformat(day), _settings(), part)

    @task
    def ingest_merge(day: str, _parts: Any) -> dict[str, Any]:
        """The partitions in visiting order, supersession and the ledger; files for
        earlier days (within the late window) go to the days they report."""
        return _step("ingest_merge_day", day)

    @task
    def validate(day: str, _ingested: dict[str, Any]) -> dict[str, Any]:
        return _step("validate_day", day)

    @task(trigger_rule=JOIN, outlets=[VALIDATED_DAY])
    def docs_due(day: str, _validated: Any, _fast: Any, **context: Any) -> dict[str, str]:
        """The day's validated rows are in the hand-over: ``huizong_data_docs`` builds its
        docs from this event (a second GX validation that took 10 s of a demo night here,
        on the critical path of every run and of the re-run queued behind it)."""
        context["outlet_events"][VALIDATED_DAY].extra = {"day": day}
        return {"day": day}

    @task
    def mail_receipts(day: str, _validated: dict[str, Any]) -> dict[str, Any]:
        """Each mail sender's receipt (回执), when the sources file turns it on."""
        from datetime import date

        from huizong.intake.receipt import mail_receipts_if_on

        return mail_receipts_if_on(date.fromisoformat(day), _settings(), in_task=True)

    @task
    def roll_up(day: str, _validated: dict[str, Any]) -> dict[str, Any]:
        return _step("rollup_day", day)

    @task
    def publish(day: str, _rolled: dict[str, Any], **context: Any) -> dict[str, Any]:
        """A new version of the day, recording what triggered it and the run; then the
        inbox listing ingest_plan took becomes the day's (the next fast path's base)."""
        run_id = context["dag_run"].run_id
        return _step(
            "publish_full_day", day, trigger=_trigger(context), run_id=run_id, in_task=True
        )

    @task(trigger_rule=JOIN)
    def workbook(day: str, _published: Any, _fast: Any) -> dict[str, Any]:
        return _step("workbook_day", day)

    @task(trigger_rule=JOIN)
    def periods(day: str, _published: Any, _fast: Any, **context: Any) -> dict[str, Any]:
        return _step("periods_day", day, run_id=context["run_id"])

    @task
    def republish_late(day: str, _periods: dict[str, Any]) -> dict[str, Any]:
        """Each earlier day that got late files tonight, re-published (not under this
        day's lock: each re-run takes its own day's)."""
        from datetime import date

        from huizong.pipeline import republish_late_days

        return republish_late_days(date.fromisoformat(day), _settings())

    day = reporting_day()
    fast = fast_path(day, pull_sources(day))
    planned = ingest_plan(day)
    fast >> planned  # skipped, with all of the full path, after a fast path
    parts = ingest_part.partial(day=day).expand(part=planned)
    validated = validate(day, ingest_merge(day, parts))
    docs_due(day, validated, fast)  # beside the roll-up: totals never wait for the docs
    mail_receipts(day, validated)  # beside too: a mail server never holds up the totals
    published = publish(day, roll_up(day, validated))
    workbook(day, published, fast)
    republish_late(day, periods(day, published, fast))


huizong_nightly()
