"""End to end: a scheduled night whose inbox is empty fails at once, without retries.

A trial found the scheduled run of a day without files retrying ``ingest_plan`` (an
``EmptyInbox`` raised as an ordinary error) for minutes, while the steward's re-run
waited behind it (``max_active_runs=1``). An empty inbox is an answer, not a fault: the
task fails on its first try, nothing downstream runs, and the run is over.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

DAY = date(2020, 1, 29)  # no demo files for this day
DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_an_empty_inbox_fails_ingest_plan_on_its_first_try(
    airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.dagrun import DagRun

    monkeypatch.setenv("HUIZONG_HOME", str(tmp_path / "var"))
    monkeypatch.setenv("HUIZONG_TASK_RETRY_DELAY", "1")  # were it retried: quickly
    monkeypatch.delenv("HUIZONG_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("HUIZONG_INBOX", raising=False)
    dag = DagBag(dag_folder=str(DAGS)).dags["huizong_nightly"]
    assert dag.default_args["retries"] == 2  # other tasks still retry a transient fault

    run = dag.test(run_conf={"day": DAY.isoformat()})

    assert str(run.state).rsplit(".", 1)[-1].lower() == "failed"
    tis = {
        ti.task_id: ti for ti in DagRun.fetch_task_instances(dag_id=dag.dag_id, run_id=run.run_id)
    }
    plan = tis["ingest_plan"]
    assert str(plan.state).rsplit(".", 1)[-1].lower() == "failed"
    assert plan.try_number == 1, "an empty inbox is not retried"
    assert str(tis["pull_sources"].state).rsplit(".", 1)[-1].lower() == "success"
    for later in ("ingest_merge", "validate", "roll_up", "publish"):
        assert str(tis[later].state).rsplit(".", 1)[-1].lower() != "success", later
