"""End to end: a real ``huizong_nightly`` run (``dag.test()``) on the demo day's files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

DEMO_DAY = date(2020, 1, 28)


@pytest.mark.e2e
def test_nightly_dag_runs_the_demo_day(airflow_db: Path, tmp_path: Path, monkeypatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from huizong.demo import generate_demo_day

    home = tmp_path / "var"
    monkeypatch.setenv("HUIZONG_HOME", str(home))
    monkeypatch.delenv("HUIZONG_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("HUIZONG_INBOX", raising=False)
    files = generate_demo_day(DEMO_DAY, home / "inbox" / DEMO_DAY.isoformat())
    assert files

    dag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags")).dags[
        "huizong_nightly"
    ]
    run = dag.test(run_conf={"day": DEMO_DAY.isoformat()})
    assert str(run.state) in {"success", "DagRunState.SUCCESS"}, run.state

    engine = sa.create_engine(f"sqlite:///{home / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        count = conn.execute(
            sa.text("SELECT count(*) FROM consolidated WHERE period = :p AND unit_code = '1309'"),
            {"p": DEMO_DAY.isoformat()},
        ).scalar_one()
        ledger = conn.execute(
            sa.text("SELECT count(*) FROM submission_ledger WHERE period = :p"),
            {"p": DEMO_DAY.isoformat()},
        ).scalar_one()
        published = conn.execute(
            sa.text("SELECT period_type, run_id FROM publication ORDER BY period_type")
        ).fetchall()
    engine.dispose()
    # the run that brought the day's week, 旬 and month up to date is recorded with them
    assert [tuple(r) for r in published] == [
        (kind, run.run_id) for kind in ("month", "week", "xun")
    ]
    assert count > 0
    assert ledger == len(files)
    workbooks = list((home / "out" / DEMO_DAY.isoformat()).glob("*.xlsx"))
    assert len(workbooks) == 1
