"""End to end: a steward's correction re-published by real ``huizong_nightly`` runs.

A nightly run of the demo day (``dag.test()``) records the inbox listing; a steward
corrects one village (the correction file lands in the inbox); a ``correction`` run, as
the review page triggers it, takes the fast path: the full path's tasks are skipped, only
the changed rows are written, and the published tables equal those of a full re-run of
the same inbox in another home. Then an earlier file changes in place, which the fast
path refuses: the next ``correction`` run falls back to the full path.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from helpers.corrections import correct_planted_value, published_tables
from helpers.nightly import FULL_PATH
from huizong import handover
from huizong.ingest.added import inbox_listing
from huizong.pipeline import INBOX_LISTING, run_day
from huizong.publish.warehouse import read_versions
from huizong.settings import Settings

pytestmark = pytest.mark.e2e

DAY = date(2020, 1, 28)
DAGS = Path(__file__).resolve().parents[2] / "dags"
#: Run on either path.
ALWAYS = {
    "reporting_day",
    "pull_sources",
    "fast_path",
    "docs_due",
    "workbook",
    "periods",
    "republish_late",
}


def _run(dag: Any, trigger: str) -> tuple[str, dict[str, set[str]]]:
    """One run of the day with this trigger: its id and each task's states."""
    from airflow.models.dagrun import DagRun

    run = dag.test(run_conf={"day": DAY.isoformat(), "trigger": trigger})
    assert str(run.state) in {"success", "DagRunState.SUCCESS"}, run.state
    states: dict[str, set[str]] = defaultdict(set)
    for ti in DagRun.fetch_task_instances(dag_id=dag.dag_id, run_id=run.run_id):
        states[ti.task_id].add(str(ti.state).rsplit(".", 1)[-1].lower())
    return run.run_id, dict(states)


def _returned(dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
    """What a task of the run returned (its XCom ``key``; None when there is none)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    query = XComModel.get_many(run_id=run_id, key=key, task_ids=task_id, dag_ids=dag_id)
    with create_session() as session:
        row = session.scalars(query).first()
        return None if row is None else XComModel.deserialize_value(row)


def _validated_days(run_id: str) -> list[str]:
    """The days the run's asset events of ``huizong_validated_day`` name."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from huizong.schedule import VALIDATED_DAY_ASSET

    query = (
        select(AssetEvent.extra)
        .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
        .where(AssetModel.name == VALIDATED_DAY_ASSET, AssetEvent.source_run_id == run_id)
    )
    with create_session() as session:
        return [extra.get("day") for extra in session.scalars(query)]


def _demo_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The demo day's inbox in a home the DAGs' tasks read from the environment."""
    from huizong.demo import generate_demo_day

    home = tmp_path / "var"
    monkeypatch.setenv("HUIZONG_HOME", str(home))
    monkeypatch.delenv("HUIZONG_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("HUIZONG_INBOX", raising=False)
    settings = Settings(home=home)
    generate_demo_day(DAY, settings.inbox_for(DAY))
    return settings


def test_the_docs_dag_builds_a_days_docs(
    airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``huizong_data_docs`` run for a day (as the asset event or the param names it)
    builds that day's site from the night's hand-over."""
    from airflow.dag_processing.dagbag import DagBag

    settings = _demo_home(tmp_path, monkeypatch)
    run_day(DAY, settings)
    index = settings.data_docs_dir(DAY) / "index.html"
    index.unlink()
    docs = DagBag(dag_folder=str(DAGS)).dags["huizong_data_docs"]
    run = docs.test(run_conf={"day": DAY.isoformat()})
    assert str(run.state) in {"success", "DagRunState.SUCCESS"}, run.state
    built = _returned(docs.dag_id, run.run_id, "build_data_docs")
    assert [b["day"] for b in built] == [DAY.isoformat()] and built[0]["rows"] > 0
    assert index.is_file()


def test_a_correction_run_takes_the_fast_path(
    airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    dags = _demo_home(tmp_path, monkeypatch)
    home = dags.home
    dag = DagBag(dag_folder=str(DAGS)).dags["huizong_nightly"]

    night_id, night = _run(dag, "nightly")
    assert all(night[t] == {"success"} for t in set(FULL_PATH) | ALWAYS), night
    assert _validated_days(night_id) == [DAY.isoformat()]  # huizong_data_docs is told
    # the DAG's full path recorded the inbox as it read it, as `huizong run` does
    assert handover.read_json(dags, DAY, INBOX_LISTING) == inbox_listing(dags.inbox_for(DAY))

    reference = Settings(home=tmp_path / "reference", inbox_root=home / "inbox")
    run_day(DAY, reference, trigger="nightly")
    correct_planted_value(dags, DAY)  # the steward's correction file joins the inbox

    fixed_id, fixed = _run(dag, "correction")  # what the review page's re-run sends
    assert all(fixed[t] == {"skipped"} for t in FULL_PATH), fixed
    assert all(fixed[t] == {"success"} for t in ALWAYS), fixed
    assert _validated_days(fixed_id) == [DAY.isoformat()]  # the fast path's day too
    summary = _returned(dag.dag_id, fixed_id, "fast_path", "summary")
    assert summary["taken"] is True
    assert summary["publish"]["path"] == "changed rows"
    assert summary["publish"]["version"] == 2
    assert summary["ingest"]["files_read"] == 1
    versions = read_versions(dags.warehouse, DAY)
    assert versions.set_index("version").loc[2, ["trigger", "run_id"]].tolist() == [
        "correction",
        fixed_id,
    ]
    assert list(dags.out_dir(DAY).glob("*.xlsx"))  # the workbook followed the fast path

    handover.write_json(reference, DAY, INBOX_LISTING, None)  # no listing: the full path
    full = run_day(DAY, reference, trigger="correction")
    assert "path" not in full["publish"] and full["publish"]["version"] == 2
    a, b = published_tables(dags.warehouse, DAY), published_tables(reference.warehouse, DAY)
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)

    # an earlier file touched in place (same bytes, a new mtime): the fast path refuses
    victim = sorted(dags.inbox_for(DAY).rglob("*.xlsx"))[0]
    stat = victim.stat()
    os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again_id, again = _run(dag, "correction")
    assert _returned(dag.dag_id, again_id, "fast_path", "summary") == {"taken": False}
    assert all(again[t] == {"success"} for t in set(FULL_PATH) | ALWAYS), again
    assert (
        _returned(dag.dag_id, again_id, "publish")["unchanged"] is True
    )  # nothing changed but a time
    assert handover.read_json(dags, DAY, INBOX_LISTING) == inbox_listing(dags.inbox_for(DAY))
