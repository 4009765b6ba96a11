"""Every DAG imports cleanly and follows house policy; DAG files stay cheap to parse."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.nightly import FULL_PATH

DAGS = Path(__file__).resolve().parents[2] / "dags"

HEAVY_MODULES = ("pandas", "great_expectations", "huizong.pipeline", "openpyxl")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_every_dag_imports(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert "huizong_nightly" in dagbag.dags


def test_policy_owner_retries_tags_doc(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id}: owner"
            assert task.retries >= 1, f"{dag_id}.{task.task_id}: no retries"


def test_no_cycles_and_expected_order(dagbag) -> None:
    dag = dagbag.dags["huizong_nightly"]
    order = [t.task_id for t in dag.topological_sort()]
    steps = [
        "reporting_day",
        "pull_sources",
        "fast_path",
        "ingest_plan",
        "ingest_part",
        "ingest_merge",
        "validate",
        "roll_up",
        "publish",
        "workbook",
    ]
    assert sorted(order) == sorted(
        [*steps, "docs_due", "mail_receipts", "periods", "republish_late"]
    )
    # the reads are mapped over the plan's partitions, and merged before anything reads them
    part = dag.get_task("ingest_part")
    assert part.upstream_task_ids == {"reporting_day", "ingest_plan"}
    assert dag.get_task("ingest_merge").upstream_task_ids == {"reporting_day", "ingest_part"}
    assert type(part).__name__.endswith("MappedOperator")
    # late files' days are re-published after tonight's day and its periods
    assert dag.get_task("republish_late").upstream_task_ids == {"reporting_day", "periods"}
    # the week/旬/month are computed from what was published (by either path)
    assert dag.get_task("periods").upstream_task_ids == {"reporting_day", "publish", "fast_path"}
    for before, after in itertools.pairwise(steps):
        assert order.index(before) < order.index(after), order
    docs = dag.get_task("docs_due")
    assert docs.upstream_task_ids == {"reporting_day", "validate", "fast_path"}
    assert docs.downstream_task_ids == set()  # the totals never wait for the docs
    receipts = dag.get_task("mail_receipts")
    assert receipts.upstream_task_ids == {"reporting_day", "validate"}
    assert receipts.downstream_task_ids == set()


#: What both paths lead to: they run after the fast path when the full path was skipped.
JOINS = ["docs_due", "workbook", "periods"]


def test_a_correction_branches_to_the_fast_path(dagbag) -> None:
    """``fast_path`` is the branch: it follows the joins, and ``ingest_plan`` too unless it
    published; the skip goes down the full path (every task of it waits for all its
    upstream to succeed) and stops at the joins, which run when no upstream failed and
    one succeeded: ``fast_path`` always does."""
    from airflow.sdk import BaseBranchOperator, TriggerRule

    dag = dagbag.dags["huizong_nightly"]
    fast = dag.get_task("fast_path")
    assert isinstance(fast, BaseBranchOperator)  # the SDK's branching
    assert fast.upstream_task_ids == {"reporting_day", "pull_sources"}
    assert dag.get_task("ingest_plan").upstream_task_ids == {"reporting_day", "fast_path"}
    for task_id in FULL_PATH:
        assert dag.get_task(task_id).trigger_rule == TriggerRule.ALL_SUCCESS, task_id
    for task_id in JOINS:
        join = dag.get_task(task_id)
        assert join.trigger_rule == TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS, task_id
        assert "fast_path" in join.upstream_task_ids, task_id
        assert "ingest_plan" not in join.upstream_task_ids, task_id
    # after the day's periods, as at night: late files the correction routed
    assert dag.get_task("republish_late").trigger_rule == TriggerRule.ALL_SUCCESS
    # everything the branch may skip: the full path's first task, never a join
    assert fast.downstream_task_ids == {"ingest_plan", *JOINS}


def test_the_docs_are_built_by_their_own_dag_on_the_validated_day(dagbag) -> None:
    """The night's ``docs_due`` emits the asset ``huizong_validated_day``, the only thing
    ``huizong_data_docs`` is scheduled on: no run of the night waits for a GX render."""
    from airflow.sdk import Asset

    from huizong.schedule import VALIDATED_DAY_ASSET

    asset = Asset(name=VALIDATED_DAY_ASSET)
    night = dagbag.dags["huizong_nightly"]
    emitters = [t.task_id for t in night.tasks if asset in (t.outlets or [])]
    assert emitters == ["docs_due"]
    docs = dagbag.dags["huizong_data_docs"]
    assert list(docs.timetable.asset_condition.objects) == [asset]
    assert [t.task_id for t in docs.tasks] == ["build_data_docs"]
    assert docs.max_active_runs == 1 and "day" in docs.params


def test_schedule_is_nightly_in_shanghai(dagbag) -> None:
    dag = dagbag.dags["huizong_nightly"]
    timetable = dag.timetable
    assert timetable.expression == "0 2 * * *"
    assert str(timetable.timezone.name) == "Asia/Shanghai"
    assert dag.max_active_runs == 1
    assert "day" in dag.params
    # a day without files fails at ingest unless asked for: off by default
    assert dag.params["allow_empty"] is False


@pytest.mark.parametrize("dag_file", sorted(DAGS.glob("*.py")), ids=lambda p: p.name)
def test_dag_file_parse_is_light(dag_file: Path) -> None:
    """Parsing must not import pandas, GX or the pipeline (the scheduler parses often)."""
    probe = (
        "import sys, runpy, time; t=time.perf_counter(); "
        f"runpy.run_path({str(dag_file)!r}); "
        "print(time.perf_counter()-t); "
        f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    heavy = lines[-1].strip() if len(lines) >= 2 else ""
    assert heavy == "", f"{dag_file.name} imports {heavy} at parse time"
    assert time.perf_counter() - start < 120  # sanity only; speed is a benchmark's job


def test_deadline_watch_waits_deferrably_for_each_level_then_chases(dagbag) -> None:
    from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync

    from huizong.schedule import DEFAULT_DEADLINES, NIGHT_HOUR

    dag = dagbag.dags["huizong_deadlines"]
    for level in DEFAULT_DEADLINES:
        wait = dag.get_task(f"wait_{level}")
        assert isinstance(wait, DateTimeSensorAsync)  # deferred: no worker slot while waiting
        assert wait.upstream_task_ids == {"deadline_times"}
        assert dag.get_task(f"chase_{level}").upstream_task_ids == {"deadline_times", wait.task_id}
    # the night runs the next day, after every deadline of the day it consolidates
    assert dagbag.dags["huizong_nightly"].timetable.expression == f"0 {NIGHT_HOUR} * * *"


@pytest.mark.parametrize(
    ("value", "schedule"), [("off", "None"), ("30 3 * * *", "30 3 * * *"), ("", "0 2 * * *")]
)
def test_the_night_schedule_is_a_setting(value: str, schedule: str) -> None:
    """``HUIZONG_NIGHT_SCHEDULE``: ``off`` leaves only triggered runs (an external
    scheduler; the browser test, whose scheduler must still run the asset-triggered docs),
    a cron replaces 02:00; a malformed value names the setting when the DAG is parsed."""
    probe = (
        "import runpy; ns = runpy.run_path("
        f"{str(DAGS / 'huizong_nightly.py')!r}); "
        "t = ns['huizong_nightly']().timetable; print(getattr(t, 'expression', None))"
    )
    env = {**os.environ, "HUIZONG_NIGHT_SCHEDULE": value}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == schedule
    env["HUIZONG_NIGHT_SCHEDULE"] = "every night"
    bad = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert bad.returncode != 0 and "HUIZONG_NIGHT_SCHEDULE" in bad.stderr


def test_every_dag_retries_after_the_settings_delay() -> None:
    """``HUIZONG_TASK_RETRY_DELAY`` reaches the tasks of every DAG, doubling each try
    (``huizong_deadlines`` kept a fixed two minutes of its own)."""
    probe = (
        "from airflow.dag_processing.dagbag import DagBag; "
        f"bag = DagBag(dag_folder={str(DAGS)!r}); "
        "print(sorted({(d, t.retry_delay.total_seconds(), t.retry_exponential_backoff > 0) "
        "for d, dag in bag.dags.items() for t in dag.tasks}))"
    )
    env = {**os.environ, "HUIZONG_TASK_RETRY_DELAY": "7"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = eval(done.stdout.splitlines()[-1])
    assert {d for d, _, _ in seen} == {"huizong_nightly", "huizong_data_docs", "huizong_deadlines"}
    assert {(delay, doubling) for _, delay, doubling in seen} == {(7.0, True)}
