"""Browser test of the stewards' path a new user's trial found wanting, on a real Airflow
api-server (REST API and the review plugin; no scheduler, so runs stay queued):

* a re-run queued behind another run of the DAG says which (its day, state, since when)
  instead of a bare "queued" — read through Airflow's real REST API;
* after a steward accepted (放行) a quarantined row and the day was re-run, the change
  page names the steward's action as the cause, not the inbox file;
* a village a steward corrected still counts on time.

Screenshots in ``$HUIZONG_TEST_ARTEFACTS`` (default ``test-artifacts/``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pandas as pd
import pytest
import sqlalchemy as sa

from huizong.review import actions, queries, store
from huizong.review.airflow_api import DAG_ID
from huizong.settings import Settings
from huizong.validate.waivers import is_waivable

from .conftest import ARTEFACTS, free_port, login, stop_group, wait_healthy

pytestmark = pytest.mark.e2e

DAY = date(2020, 1, 28)
PERIOD = DAY.isoformat()
OTHER_DAY = "2020-01-27"  # the run ahead works on another day
STEWARD, PASSWORD = "steward_c", "pw-steward-c"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Site:
    base: str
    settings: Settings
    engine: sa.Engine
    accepted: pd.Series  # the quarantined row the steward accepted
    log: Path


def _airflow(args: list[str], env: dict[str, str]) -> None:
    airflow = str(Path(sys.executable).with_name("airflow"))
    done = subprocess.run([airflow, *args], env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def site(browser: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo day published, a steward's acceptance re-run, and Airflow serving it
    (after ``browser``: without Chromium nothing is started)."""
    from huizong.demo import generate_demo_day
    from huizong.pipeline import run_day

    tmp = tmp_path_factory.mktemp("browser_rerun_queue")
    settings = Settings(home=tmp / "var", inbox_root=tmp / "inbox")
    generate_demo_day(DAY, settings.inbox_for(DAY))
    run_day(DAY, settings)
    engine = sa.create_engine(settings.warehouse)
    store.ensure_schema(engine)
    quarantine = queries.issues(engine, DAY, ["1309"], "quarantine")
    per_row = quarantine.groupby(["file_id", "sheet", "row_number"])["rule"].transform("size")
    issue = quarantine[(per_row == 1) & quarantine["rule"].map(is_waivable)].iloc[0]
    store.assign_scope(engine, STEWARD, [str(issue["unit_code"])[:6]])
    actions.accept(
        engine,
        settings,
        username=STEWARD,
        period=DAY,
        file_id=str(issue["file_id"]),
        sheet=str(issue["sheet"]),
        row_number=int(issue["row_number"]),
        rule=str(issue["rule"]),
        justification="电话核实，数据无误",
    )
    run_day(DAY, settings, trigger="correction")

    home = tmp / "airflow"
    home.mkdir()
    (home / "passwords.json").write_text(json.dumps({STEWARD: PASSWORD}), encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{STEWARD}:user",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__API__WORKERS": "1",
        "HUIZONG_HOME": str(settings.home),
        "HUIZONG_INBOX": str(settings.inbox_root),
        "HUIZONG_AIRFLOW_API_URL": base,
    }
    env.pop("HUIZONG_WAREHOUSE_URL", None)
    _airflow(["db", "migrate"], env)
    _airflow(["dags", "reserialize"], env)
    log = tmp / "api-server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("airflow")), "api-server", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(base, lambda: proc.poll() is None, lambda: log.read_text()[-3000:], 120)
        yield Site(base, settings, engine, issue, log)
    finally:
        stop_group(proc)
        engine.dispose()


def _login(browser: object, site: Site) -> object:
    return login(browser, site.base, STEWARD, PASSWORD)


def test_a_queued_rerun_names_the_run_ahead_and_the_change_page_the_steward(
    browser: object, site: Site
) -> None:
    base = f"{site.base}/huizong-review"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page = _login(browser, site)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "_token")
    ahead = httpx.post(  # another day's run, started first (stays queued: no scheduler)
        f"{site.base}/api/v2/dags/{DAG_ID}/dagRuns",
        headers={"Authorization": f"Bearer {token}"},
        json={"logical_date": None, "conf": {"day": OTHER_DAY}},
        timeout=30,
    )
    assert ahead.status_code == 200, ahead.text
    ahead_id = ahead.json()["dag_run_id"]

    page.goto(f"{base}/runs/{PERIOD}")
    page.fill("#rerun-why", "放行后重算 totals after the acceptance")
    page.click("#rerun")
    page.wait_for_selector("#rerun-started")
    waiting = page.inner_text("#rerun-waiting")
    page.screenshot(path=str(ARTEFACTS / "review-rerun-queued.png"), full_page=True)
    assert "排队中 queued" in page.inner_text("#run-state")
    assert OTHER_DAY in waiting and ahead_id in waiting, waiting
    assert "手动运行 manual run" in waiting and "排队自 queued since" in waiting
    assert "北京时间" in waiting and "one at a time" in waiting

    page.goto(f"{base}/runs/{PERIOD}/changes")
    body = page.inner_text("body")
    page.screenshot(path=str(ARTEFACTS / "review-changes-accepted.png"), full_page=True)
    # the cause names the accepted village after the file and row (causes list
    # their units by name, once per cause)
    name = str(site.accepted["unit_name"])
    assert "管理员放行 / steward accepted" in body and STEWARD in body
    assert f"第{int(site.accepted['row_number'])}行" in body and f"：{name}" in body
