"""End to end: a real ``huizong_deadlines`` run (``dag.test()``): the deferrable sensors
pass for a past day, the chase tasks list the missing units and mail the steward."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from helpers.smtp import smtp_receiver

DAY = date(2026, 11, 26)
TOWNSHIP = "130902001"


@pytest.mark.e2e
def test_deadline_dag_chases_each_level(airflow_db: Path, tmp_path: Path, monkeypatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from huizong.ingest import receipts
    from huizong.intake.arrivals import Arrival, deposit
    from huizong.settings import Settings

    home = tmp_path / "var"
    monkeypatch.setenv("HUIZONG_HOME", str(home))
    monkeypatch.delenv("HUIZONG_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("HUIZONG_SOURCES", raising=False)
    home.mkdir()
    (home / "sources.toml").write_text(
        f'[notify]\nfrom = "huizong@office.example"\n\n'
        f'[[steward]]\nemail = "zhang@town.example"\nunits = ["{TOWNSHIP}"]\n',
        encoding="utf-8",
    )
    csv = "单位代码,单位名称,日期,排查登记人数\n130902001001,建北社区,2026-11-26,1\n"
    at = datetime(2026, 11, 26, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    deposit(Arrival(csv.encode(), "建北.csv", at, receipts.MAIL), Settings(home=home))

    with smtp_receiver() as box:
        monkeypatch.setenv("AIRFLOW_CONN_HUIZONG_SMTP", f"smtp://127.0.0.1:{box.port}")
        dag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags")).dags[
            "huizong_deadlines"
        ]
        run = dag.test(run_conf={"day": DAY.isoformat()})
    assert str(run.state) in {"success", "DagRunState.SUCCESS"}, run.state
    subjects = sorted(m["Subject"] for m in box.messages)
    # village and township deadlines each list the township's villages but 建北社区;
    # departments are outside the steward's township
    assert len(subjects) == 2, subjects
    assert any("village deadline 18:00" in s for s in subjects)
    assert any("township deadline 20:00" in s for s in subjects)
    for msg in box.messages:
        body = msg.get_content()
        assert "130902001001" not in body and "130902001002" in body
    lists = sorted(p.name for p in (home / "runs" / DAY.isoformat()).glob("missing_at_*"))
    assert lists == [
        "missing_at_department_deadline.json",
        "missing_at_township_deadline.json",
        "missing_at_village_deadline.json",
    ]
