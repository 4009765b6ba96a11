"""Browser test of the clerks' upload page: a village clerk logs in to a real Airflow
api-server, chooses the day, uploads the village template with a planted error, sees at
once the bilingual error with row and column and the receipt (回执), uploads the fix, is
refused (403) for another unit, and the night (``huizong run`` on that day's inbox)
counts only the fix — the first upload superseded, not lost.

Headless Debian Chromium driven by Playwright; screenshots in ``$HUIZONG_TEST_ARTEFACTS``
(default ``test-artifacts/``). Only the api-server runs: the night is the CLI, as a cron
job or ``airflow dags test`` would run the same functions.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from huizong.catalogue import load_catalogue
from huizong.ingest import receipts
from huizong.ingest.template import write_template
from huizong.registry import registry_for
from huizong.review import store
from huizong.settings import Settings
from review.conftest import free_port as _free_port
from review.conftest import login
from review.conftest import stop_group as _stop
from review.test_browser import ROOT, _run  # the review browser test's own helpers

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

TZ = ZoneInfo("Asia/Shanghai")
CLERK, PASSWORD = "clerk_jianbei", "clerk-jianbei-pass"
STEWARD, STEWARD_PASSWORD = "steward_xinhua", "steward-xinhua-pass"  # the township's
TOWNSHIP = "130902001"
UNIT, OTHER = "130902001001", "130902002001"  # 建北社区; a community of another street
GOOD, BAD = 12, -4


@dataclass
class Server:
    base: str
    settings: Settings
    env: dict[str, str]
    logs: Path

    def tail(self, n: int = 2000) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-n:]}"
            for p in sorted(self.logs.glob("*.log"))
        )


@pytest.fixture(scope="module")
def server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """An empty deployment (no night run yet) and Airflow's api-server on a free port
    (after ``browser``: without Chromium nothing is started)."""
    tmp = tmp_path_factory.mktemp("upload-browser")
    settings = Settings(home=tmp / "var", inbox_root=tmp / "inbox")
    settings.home.mkdir(parents=True)
    engine = sa.create_engine(settings.warehouse)
    store.ensure_schema(engine)
    store.assign_scope(engine, CLERK, [UNIT])
    store.assign_scope(engine, STEWARD, [TOWNSHIP])
    engine.dispose()
    home, logs = tmp / "airflow", tmp / "logs"
    home.mkdir()
    logs.mkdir()
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({CLERK: PASSWORD, STEWARD: STEWARD_PASSWORD}), encoding="utf-8")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{CLERK}:user,{STEWARD}:user",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__API__WORKERS": "1",
        "HUIZONG_HOME": str(settings.home),
        "HUIZONG_INBOX": str(settings.inbox_root),
    }
    env.pop("HUIZONG_WAREHOUSE_URL", None)  # the SQLite file under HUIZONG_HOME
    _run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], env, 180)
    log = (logs / "api-server.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("airflow")), "api-server", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    srv = Server(base, settings, env, logs)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, srv.tail()
            assert time.monotonic() < deadline, "api-server not healthy in 90 s\n" + srv.tail()
            time.sleep(0.5)
        yield srv
    finally:
        _stop(proc)
        log.close()


@contextlib.contextmanager
def _logged_in(browser: Any, base: str, user: str, password: str) -> Iterator[Any]:
    """A page of the module's Chromium logged in through Airflow's own login page."""
    page = login(browser, base, user, password, timeout_ms=60_000)
    try:
        yield page
    finally:
        page.context.close()


def _send(page: Any, path: Path) -> tuple[str, str]:
    """Upload ``path`` with the form; (verdict, receipt) as the page shows them."""
    page.set_input_files("#file", str(path))
    page.click("#send")
    page.wait_for_selector("#receipt")
    return page.inner_text("#verdict"), page.inner_text("#receipt")


def _filled_template(path: Path, settings: Settings, day, screened: int) -> Path:
    """The village template `huizong template` gives the clerk, filled in: every count 0
    except 排查登记人数 (persons_screened)."""
    catalogue = load_catalogue(settings.form)
    write_template(path, UNIT, day, catalogue, registry_for(settings))
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[2]]
    for ind in catalogue.numeric:
        value = screened if ind.code == "persons_screened" else 0
        ws.cell(row=3, column=header.index(f"{ind.zh}({ind.code})") + 1, value=value)
    wb.save(path)
    return path


def test_clerk_uploads_an_error_sees_it_uploads_the_fix_and_the_night_counts_the_fix(
    browser: Any, server: Server, tmp_path: Path
) -> None:
    srv, settings = server, server.settings
    today = datetime.now(TZ).date()
    base = f"{srv.base}/huizong-review"
    artefacts = Path(os.environ.get("HUIZONG_TEST_ARTEFACTS", ROOT / "test-artifacts"))
    artefacts.mkdir(parents=True, exist_ok=True)
    bad = _filled_template(tmp_path / "建北社区_错.xlsx", settings, today, BAD)
    good = _filled_template(tmp_path / "建北社区.xlsx", settings, today, GOOD)
    assert httpx.get(f"{base}/upload/{today}", timeout=60).status_code == 401  # no login, no page

    with _logged_in(browser, srv.base, CLERK, PASSWORD) as page:
        # choose the day on the page (it opens on another day)
        page.goto(f"{base}/upload/2020-01-28")
        page.fill("#day", today.isoformat())
        page.click("#choose-day button")
        page.wait_for_url(f"**/upload/{today}")
        assert page.input_value("#unit_code") == UNIT  # the clerk's one unit
        page.screenshot(path=str(artefacts / "upload-form.png"), full_page=True)

        # the planted error, at once, in both languages with row and column
        verdict, receipt = _send(page, bad)
        assert "有错误" in verdict
        assert "第3行 row 3，列 column 排查登记人数(persons_screened)" in receipt
        assert "填报为 -4，不能为负数" in receipt and "it cannot be negative" in receipt
        uploaded = datetime.now(TZ)
        timely = "（按时 / on time）" if uploaded.time() <= clock(18, 0) else "（晚于截止时间"
        assert timely in receipt and f"deadline: {today} 18:00" in receipt
        assert "隔离 quarantined 1" in receipt
        details = page.inner_text("#problems")
        assert f"文件 {bad.name} / 工作表" in details and "列 排查登记人数" in details
        page.screenshot(path=str(artefacts / "upload-error.png"), full_page=True)

        # the fix
        page.click("text=再上传 Upload again")
        verdict, receipt = _send(page, good)
        assert "检查通过" in verdict
        assert "通过 accepted 1，隔离 quarantined 0" in receipt
        assert "全部数据通过校验" in receipt
        page.screenshot(path=str(artefacts / "upload-fixed.png"), full_page=True)

        # the day's uploads, listed on the form, oldest first; then another unit: refused
        page.goto(f"{base}/upload/{today}")
        listed = page.content()
        assert listed.index(bad.name) < listed.index(good.name)
        page.screenshot(path=str(artefacts / "upload-form-after.png"), full_page=True)
        page.fill("#unit_code", OTHER)
        page.set_input_files("#file", str(good))
        with page.expect_navigation() as refused:
            page.click("#send")
        assert refused.value is not None and refused.value.status == 403
        page.screenshot(path=str(artefacts / "upload-refused.png"), full_page=True)

    inbox = settings.inbox_for(today)
    book = receipts.read_book(receipts.book_path(inbox))
    assert len(book) == 2 and {r.sender for r in book.values()} == {CLERK}

    # the village deadline's list (the deadline task's command, without mail), then the
    # township's steward reads it on the day page: the township's villages minus the clerk's
    huizong = str(Path(sys.executable).with_name("huizong"))
    cmd = [huizong, "intake", "chase", "--date", str(today), "--level", "village", "--no-notify"]
    done = subprocess.run(cmd, env=srv.env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    units = registry_for(settings).units
    villages = units.loc[(units["township_code"] == TOWNSHIP) & (units["level"] == 5), "code"]
    # the clerk's unit arrived by the deadline only when the upload came before 18:00
    # Beijing time (the test runs at any hour: after it, the unit is rightly still missing)
    want = set(villages) - ({UNIT} if uploaded.time() <= clock(18, 0) else set())
    with _logged_in(browser, srv.base, STEWARD, STEWARD_PASSWORD) as page:
        page.goto(f"{base}/runs/{today}")
        heading = page.locator(f'h4[data-level="village"][data-township="{TOWNSHIP}"]')
        table = heading.locator("xpath=following-sibling::table[1]")
        shown = {c.strip() for c in table.locator("tr td:first-child").all_inner_texts()}
        assert shown == want
        assert f"{len(want)} of your units missing" in page.inner_text("#deadline-village")
        page.locator("#deadline-missing").scroll_into_view_if_needed()
        page.screenshot(path=str(artefacts / "review-deadline-missing.png"), full_page=True)

    # the night, on that day's inbox
    done = subprocess.run(
        [huizong, "run", "--date", today.isoformat()],
        env=srv.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    engine = sa.create_engine(settings.warehouse)
    try:
        with engine.connect() as conn:
            ledger = pd.read_sql(
                sa.text("SELECT * FROM submission_ledger WHERE period = :p"),
                conn,
                params={"p": today.isoformat()},
            ).set_index("file_name")
            report = pd.read_sql(
                sa.text("SELECT * FROM report WHERE period = :p AND unit_code = :u"),
                conn,
                params={"p": today.isoformat(), "u": UNIT},
            )
            quarantined = pd.read_sql(
                sa.text("SELECT * FROM quarantine WHERE period = :p"),
                conn,
                params={"p": today.isoformat()},
            )
    finally:
        engine.dispose()
    assert ledger.loc[bad.name, "status"] == "superseded"  # kept, not lost
    assert int(ledger.loc[bad.name, "rows_superseded"]) == 1
    assert ledger.loc[good.name, "status"] == "accepted"
    assert set(ledger["channel"]) == {"upload"} and set(ledger["sender"]) == {CLERK}
    assert report["file_name"].tolist() == [good.name]
    assert int(report["persons_screened"].iloc[0]) == GOOD
    assert quarantined.empty
    # received = the upload times of the receipt book, not the files' mtimes
    by_source = {r.source: r.timestamp for r in book.values()}
    assert {
        pd.Timestamp(ledger.loc[n, "received_at"]).tz_convert("UTC") for n in (bad.name, good.name)
    } == set(by_source.values())
