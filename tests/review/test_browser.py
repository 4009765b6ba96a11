"""Browser test: a steward logs in to a real ``airflow api-server``, opens the day's
quarantine in the review plugin, corrects one value and re-runs the day through Airflow's
API. Headless Debian Chromium driven by Playwright; a screenshot is kept as an artefact.

Not covered here (needs the scheduler and the core pipeline's demo day): the re-run
executing and the township/county/city totals changing by the corrected difference.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from huizong.review import store

from .conftest import PERIOD, Warehouse, build_warehouse

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "steward-a-pass"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Warehouse]]:
    """A migrated Airflow home with the DAG serialized and the api-server on a free port."""
    tmp = tmp_path_factory.mktemp("browser")
    (tmp / "wh").mkdir()
    wh = build_warehouse(tmp, f"sqlite:///{tmp / 'wh' / 'warehouse.sqlite'}")
    home = tmp / "airflow"
    home.mkdir()
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({"steward_a": PASSWORD}), encoding="utf-8")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    airflow = str(Path(sys.executable).with_name("airflow"))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "steward_a:user",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "HUIZONG_HOME": str(wh.settings.home),
        "HUIZONG_INBOX": str(wh.settings.inbox_root),
        "HUIZONG_WAREHOUSE_URL": str(wh.engine.url.render_as_string(hide_password=False)),
        "HUIZONG_AIRFLOW_API_URL": base,
    }
    _run([airflow, "db", "migrate"], env, 120)
    _run([airflow, "dags", "reserialize"], env, 120)
    log = (tmp / "api-server.log").open("w")
    proc = subprocess.Popen(
        [airflow, "api-server", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (tmp / "api-server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "api-server did not become healthy in 90 s"
            time.sleep(0.5)
        yield base, wh
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
        wh.engine.dispose()


def test_steward_corrects_and_reruns_in_the_browser(
    server: tuple[str, Warehouse], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    base, wh = server
    assert httpx.get(f"{base}/huizong-review/").status_code == 401  # no user, no page
    # HUIZONG_TEST_ARTEFACTS (e.g. set by `make test` / CI) keeps the screenshot
    artefacts = Path(os.environ.get("HUIZONG_TEST_ARTEFACTS", tmp_path))
    artefacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            # log in through Airflow's own login page
            page.goto(f"{base}/auth/login")
            page.fill("input[name=username]", "steward_a")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/auth/login" not in url)

            page.goto(f"{base}/huizong-review/")
            page.click(f"text={PERIOD}")
            page.click(f"text={wh.a_error.file_name}")
            assert "250000" in page.content()
            assert wh.b_error.unit_code not in page.content()
            page.select_option("#correct select[name=column]", "persons_screened")
            page.fill("#correct input[name=new_value]", "2500")
            page.fill("#correct input[name=justification]", "多打了两个零")
            page.click("#correct button[type=submit]")
            page.wait_for_selector("text=250000 → 2500")
            page.goto(f"{base}/huizong-review/runs/{PERIOD}")
            page.screenshot(path=str(artefacts / "review-corrected.png"), full_page=True)
            page.click("#rerun")
            page.wait_for_selector("#rerun-started")
            run_text = page.inner_text("#rerun-started")
        finally:
            browser.close()

    audit = store.actions_for(wh.engine, PERIOD)
    assert audit[["action", "username", "old_value", "new_value"]].values.tolist() == [
        ["correct", "steward_a", "250000", "2500"]
    ]
    folder = wh.settings.inbox_for(date.fromisoformat(PERIOD)) / "_corrections"
    assert len(list(folder.glob(f"{wh.a_error.unit_code}-*.csv"))) == 1
    # the run exists in Airflow with the day as conf
    token = httpx.post(
        f"{base}/auth/token", json={"username": "steward_a", "password": PASSWORD}
    ).json()["access_token"]
    runs = httpx.get(
        f"{base}/api/v2/dags/huizong_nightly/dagRuns",
        headers={"Authorization": f"Bearer {token}"},
    ).json()["dag_runs"]
    assert [r["conf"] for r in runs] == [{"day": PERIOD}]
    assert runs[0]["dag_run_id"] in run_text
    assert (artefacts / "review-corrected.png").stat().st_size > 0
