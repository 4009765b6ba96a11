"""Browser test, the whole loop: a steward logs in to a real Airflow (api-server, scheduler
and dag-processor with the LocalExecutor), opens the demo day in the review plugin,
corrects one value, re-runs the day from the page, the scheduler executes that run, and
the township, county and city totals on the totals page move by exactly the corrected
difference. A second county's steward, in the same run, sees their files, opens Data Docs
of their county only, and resolves the demo day's duplicate with "keep this row": their
totals move by exactly the kept row's values. Headless Debian Chromium driven by
Playwright; screenshots are kept in ``$HUIZONG_TEST_ARTEFACTS`` (default
``test-artifacts/`` in the repository).

The night's cron is switched off (``HUIZONG_NIGHT_SCHEDULE=off``; the deadline watch is
paused) so the only nightly run is the one the steward triggers; the scheduler still
creates runs from asset events, so the re-run's ``docs_due`` has the real scheduler start
``huizong_data_docs``, which rebuilds the day's docs.
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
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pandas as pd
import pytest
import sqlalchemy as sa

from huizong.catalogue import load_catalogue
from huizong.registry import registry_for
from huizong.review import queries, store
from huizong.settings import Settings

from .conftest import free_port, login, stop_group, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "steward-a-pass"
PASSWORD_Q = "steward-q-pass"
DAY = date(2020, 1, 28)
PERIOD = DAY.isoformat()
DAG_ID = "huizong_nightly"
RUN_TIMEOUT = 240.0  # seconds for the triggered run to finish

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@dataclass
class Issue:
    """The warned value the steward corrects (it is in the totals already)."""

    unit_code: str
    file_id: str
    sheet: str
    row_number: int
    column: str
    old: int

    @property
    def chain(self) -> list[str]:
        return [self.unit_code[:9], self.unit_code[:6], self.unit_code[:4]]


@dataclass
class Duplicate:
    """The demo day's village twice in one file; the steward of its county keeps ``kept``."""

    unit_code: str
    file_id: str
    kept_row: int
    other_row: int
    values: dict[str, int]  # the kept row's summed indicators (blank: 0)

    @property
    def county(self) -> str:
        return self.unit_code[:6]

    @property
    def chain(self) -> list[str]:
        return [self.unit_code[:9], self.unit_code[:6], self.unit_code[:4]]


@dataclass
class Server:
    base: str
    settings: Settings
    engine: sa.Engine
    issue: Issue
    dup: Duplicate
    logs: Path

    def token(self) -> str:
        resp = httpx.post(
            f"{self.base}/auth/token",
            json={"username": "steward_a", "password": PASSWORD},
            timeout=60,  # the default 5 s failed once at load average 10
        )
        return resp.json()["access_token"]

    def tail(self, n: int = 2000) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-n:]}"
            for p in sorted(self.logs.glob("*.log"))
        )


def _demo_day(tmp: Path) -> tuple[Settings, sa.Engine, Issue, Duplicate]:
    """The demo day run once in-process, as last night's run left it."""
    from huizong.demo import generate_demo_day
    from huizong.pipeline import run_day

    settings = Settings(home=tmp / "var", inbox_root=tmp / "inbox")
    generate_demo_day(DAY, settings.inbox_for(DAY))
    run_day(DAY, settings)
    engine = sa.create_engine(settings.warehouse)
    store.ensure_schema(engine)
    warnings = queries.issues(engine, DAY, ["1309"], "warning")
    village = warnings["unit_code"].astype("str").str.fullmatch(r"\d{12}")
    high = warnings[warnings["rule"].str.startswith("warn_above:") & village].iloc[0]
    issue = Issue(
        str(high["unit_code"]),
        str(high["file_id"]),
        str(high["sheet"]),
        int(high["row_number"]),
        str(high["column"]),
        int(high["value"]),
    )
    store.assign_scope(engine, "steward_a", [issue.unit_code[:6]])
    quarantine = queries.issues(engine, DAY, ["1309"], "quarantine")
    pair = quarantine[quarantine["rule"] == "unique_unit_day"].sort_values("row_number")
    assert len(pair) == 2, "the demo day plants one village twice in one file"
    received = pd.read_parquet(settings.run_dir(DAY) / "received.parquet")
    kept = received[
        (received["file_id"] == pair["file_id"].iloc[1])
        & (received["row_number"] == int(pair["row_number"].iloc[1]))
    ].iloc[0]
    summed = [i.code for i in load_catalogue().numeric if i.across_units == "sum"]
    dup = Duplicate(
        str(pair["unit_code"].iloc[0]),
        str(pair["file_id"].iloc[1]),
        int(pair["row_number"].iloc[1]),
        int(pair["row_number"].iloc[0]),
        {c: 0 if pd.isna(kept[c]) else int(kept[c]) for c in summed},
    )
    assert dup.county != issue.unit_code[:6], "two different counties' stewards"
    store.assign_scope(engine, "steward_q", [dup.county])
    return settings, engine, issue, dup


@pytest.fixture(scope="module")
def server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Airflow (api-server, scheduler, dag-processor) on the demo day, on a free port (after
    ``browser``: without Chromium nothing is started)."""
    tmp = tmp_path_factory.mktemp("browser")
    settings, engine, issue, dup = _demo_day(tmp)
    home = tmp / "airflow"
    home.mkdir()
    logs = tmp / "logs"
    logs.mkdir()
    passwords = home / "passwords.json"
    passwords.write_text(
        json.dumps({"steward_a": PASSWORD, "steward_q": PASSWORD_Q}), encoding="utf-8"
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    airflow = str(Path(sys.executable).with_name("airflow"))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "HUIZONG_NIGHT_SCHEDULE": "off",  # only the steward's run; asset runs still start
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "steward_a:user,steward_q:user",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
        "HUIZONG_HOME": str(settings.home),
        "HUIZONG_INBOX": str(settings.inbox_root),
        "HUIZONG_AIRFLOW_API_URL": base,
    }
    env.pop("HUIZONG_WAREHOUSE_URL", None)  # the demo day's SQLite file under HUIZONG_HOME
    _run([airflow, "db", "migrate"], env, 180)
    _run([airflow, "dags", "reserialize"], env, 180)
    _run([airflow, "dags", "pause", "huizong_deadlines"], env, 180)  # its own cron
    procs: list[subprocess.Popen] = []
    handles = []
    try:
        for component in ("api-server", "scheduler", "dag-processor"):
            log = (logs / f"{component}.log").open("w")
            handles.append(log)
            cmd = [airflow, component] + (
                ["--port", str(port)] if component == "api-server" else []
            )
            procs.append(
                subprocess.Popen(
                    cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        srv = Server(base, settings, engine, issue, dup, logs)
        wait_healthy(base, lambda: all(p.poll() is None for p in procs), srv.tail, 90)
        yield srv
    finally:
        for proc in reversed(procs):
            stop_group(proc)
        for log in handles:
            log.close()
        engine.dispose()


def _wait_for_run(srv: Server, run_id: str, dag_id: str = DAG_ID) -> dict:
    """Poll the run through the public REST API until it ends (bounded)."""
    headers = {"Authorization": f"Bearer {srv.token()}"}
    url = f"{srv.base}/api/v2/dags/{dag_id}/dagRuns/{run_id}"
    deadline = time.monotonic() + RUN_TIMEOUT
    run: dict = {}
    while time.monotonic() < deadline:
        try:
            run = httpx.get(url, headers=headers, timeout=30).json()
        except httpx.TimeoutException:  # a loaded machine: the run itself holds the CPUs
            continue
        if run.get("state") in ("success", "failed"):
            break
        time.sleep(2)
    tasks = httpx.get(f"{url}/taskInstances", headers=headers, timeout=60).json()
    states = {t["task_id"]: t["state"] for t in tasks.get("task_instances", [])}
    assert run.get("state") == "success", f"{run.get('state')}: {states}\n{srv.tail()}"
    return states


def _docs_run_after(srv: Server, since: float) -> str:
    """The id of the first run of ``huizong_data_docs`` the scheduler started from an asset
    event after ``since`` (epoch seconds), once one exists (bounded)."""
    headers = {"Authorization": f"Bearer {srv.token()}"}
    url = f"{srv.base}/api/v2/dags/huizong_data_docs/dagRuns"
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        try:
            runs = httpx.get(url, headers=headers, timeout=30).json().get("dag_runs", [])
        except httpx.TimeoutException:
            continue
        for run in runs:
            queued = pd.Timestamp(run["queued_at"] or run["run_after"]).timestamp()
            if run["run_type"] == "asset_triggered" and queued >= since:
                return str(run["dag_run_id"])
        time.sleep(2)
    raise AssertionError(f"no asset-triggered huizong_data_docs run\n{srv.tail()}")


@contextlib.contextmanager
def _attacker_site(folder: Path) -> Iterator[str]:
    """Another origin (another port) serving ``folder``, as a hostile page would be."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _attack_pages(folder: Path, day_url: str, issue: Issue) -> list[str]:
    """Pages that auto-submit a reject and a re-run with the steward's cookie: one with a
    no-referrer meta (Origin: null, no Referer), one plainly from a foreign origin."""
    folder.mkdir(exist_ok=True)
    fields = (
        f'<input name="file_id" value="{issue.file_id}"><input name="sheet" value="{issue.sheet}">'
        f'<input name="row_number" value="{issue.row_number}">'
        '<input name="justification" value="forged"><input name="csrf_token" value="guess">'
    )
    pages = []
    for name, meta in (("null", '<meta name="referrer" content="no-referrer">'), ("foreign", "")):
        for action in ("reject", "rerun"):
            (folder / f"{name}-{action}.html").write_text(
                f'<!DOCTYPE html><html><head>{meta}</head><body><form method="post"'
                f' action="{day_url}/{action}">{fields}</form>'
                "<script>document.forms[0].submit()</script></body></html>",
                encoding="utf-8",
            )
            pages.append(f"{name}-{action}.html")
    return pages


def _login(browser: Any, srv: Server, username: str, password: str) -> Any:
    return login(browser, srv.base, username, password)


def _other_counties(srv: Server, county: str) -> list[str]:
    units = registry_for(srv.settings).units
    codes = units.loc[units["level"] == 3, "code"].astype("str")
    return sorted(c for c in codes if c != county and c.isdigit())


def _county_data_docs(page: Any, srv: Server, base: str, artefacts: Path) -> str:
    """Open Data Docs from the day page as the county steward: the index and the day's
    validation page (screenshots); returns the text of both."""
    import re

    page.goto(f"{base}/runs/{PERIOD}")
    with page.expect_navigation(timeout=180_000):  # the first open builds the site
        page.click("#data-docs-link")
    page.wait_for_selector("text=Validation Results", timeout=120_000)
    page.screenshot(path=str(artefacts / "review-county-data-docs.png"), full_page=True)
    index = page.content()
    found = re.search(r"_table_row_link_path': '([^']+)'", index)
    assert found, index[:2000]
    page.goto(f"{base}/runs/{PERIOD}/data-docs/{found.group(1)}")
    page.wait_for_load_state("load")
    page.screenshot(path=str(artefacts / "review-county-data-docs-validation.png"))
    return index + page.content()


def _keep_the_duplicate(page: Any, srv: Server, base: str, artefacts: Path) -> None:
    """The county steward compares the duplicate's rows and keeps the second one."""
    dup = srv.dup
    page.goto(f"{base}/runs/{PERIOD}")
    page.wait_for_selector("#duplicates")
    section = page.locator("#duplicates ~ div.side-by-side").first
    section.scroll_into_view_if_needed()
    page.screenshot(path=str(artefacts / "review-duplicate-before-keep.png"), full_page=True)
    assert section.inner_text().count("保留此行 keep this row") == 2
    form = page.locator(
        f'form.keep:has(input[name=file_id][value="{dup.file_id}"])'
        f':has(input[name=row_number][value="{dup.kept_row}"])'
    )
    form.locator("input[name=justification]").fill("第二行是村委会更正后的 the second is the fix")
    form.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/row?" in url)
    page.goto(f"{base}/runs/{PERIOD}")
    page.wait_for_selector("text=已保留 kept")
    page.screenshot(path=str(artefacts / "review-duplicate-after-keep.png"), full_page=True)


def test_steward_corrects_reruns_and_sees_the_new_totals(
    browser: Any, server: Server, tmp_path: Path
) -> None:
    from playwright.sync_api import Page

    srv, issue, dup = server, server.issue, server.dup
    base = f"{srv.base}/huizong-review"
    new = issue.old // 10
    artefacts = Path(os.environ.get("HUIZONG_TEST_ARTEFACTS", ROOT / "test-artifacts"))
    artefacts.mkdir(parents=True, exist_ok=True)
    assert httpx.get(f"{base}/", timeout=60).status_code == 401  # no user, no page
    # the duplicate's steward watches an indicator the kept row reports
    q_column = max(dup.values, key=lambda c: (dup.values[c], c != issue.column))
    assert dup.values[q_column] > 0

    def totals(page: Page, column: str, codes: list[str]) -> dict[str, int]:
        page.goto(f"{base}/runs/{PERIOD}/totals?indicator={column}")
        return {code: int(page.inner_text(f"#total-{code}").replace(",", "")) for code in codes}

    page = _login(browser, srv, "steward_a", PASSWORD)
    before = totals(page, issue.column, issue.chain)
    page.goto(f"{base}/")
    page.click(f"text={PERIOD}")
    county = issue.unit_code[:6]
    theirs = queries.ledger(srv.engine, DAY, [county])["file_name"]
    assert len(theirs) and str(theirs.iloc[0]) in page.content()  # its files
    page.screenshot(path=str(artefacts / "review-day.png"), full_page=True)
    attacker = tmp_path / "attacker"
    with _attacker_site(attacker) as origin:
        for attack in _attack_pages(attacker, f"{base}/runs/{PERIOD}", issue):
            page.goto(f"{origin}/{attack}")
            page.wait_for_load_state("load")
            page.wait_for_timeout(1500)  # the auto-submitted form's answer
            assert store.actions_for(srv.engine, PERIOD).empty, attack
            assert store.reruns_for(srv.engine, PERIOD).empty, attack
    page.screenshot(path=str(artefacts / "review-cross-site-refused.png"))
    assert "跨站" in page.content()
    page.goto(f"{base}/runs/{PERIOD}")
    page.click(f'a[href*="file_id={issue.file_id}"][href$="row_number={issue.row_number}"]')
    assert str(issue.old) in page.content()
    page.select_option("#correct select[name=column]", issue.column)
    page.fill("#correct input[name=new_value]", str(new))
    page.fill("#correct input[name=justification]", "多打了一位")
    page.click("#correct button[type=submit]")
    page.wait_for_selector(f"text={issue.old} → {new}")
    page.goto(f"{base}/runs/{PERIOD}")
    page.screenshot(path=str(artefacts / "review-corrected.png"), full_page=True)

    # the duplicate's county: its steward sees its files, its Data Docs, keeps a row
    q = _login(browser, srv, "steward_q", PASSWORD_Q)
    q_before = totals(q, q_column, dup.chain)
    q.goto(f"{base}/runs/{PERIOD}")
    q_files = queries.ledger(srv.engine, DAY, [dup.county])["file_name"]
    assert len(q_files) and all(str(f) in q.content() for f in q_files)
    q.screenshot(path=str(artefacts / "review-county-day.png"), full_page=True)
    docs = _county_data_docs(q, srv, base, artefacts)
    assert dup.unit_code in docs  # its own duplicate is in its docs
    leaked = [c for c in _other_counties(srv, dup.county) if c in docs]
    assert not leaked, leaked
    _keep_the_duplicate(q, srv, base, artefacts)

    docs_index = srv.settings.home / "data_docs" / PERIOD / "index.html"
    docs_before = docs_index.stat().st_mtime  # the in-process night's docs
    rerun_at = time.time()
    page.goto(f"{base}/runs/{PERIOD}")
    page.fill("#rerun-why", "更正后重算 totals after the correction")
    page.click("#rerun")
    page.wait_for_selector("#rerun-started")
    run_text = page.inner_text("#rerun-started")
    run_id = page.inner_text("#rerun-started b")
    assert run_id in run_text

    states = _wait_for_run(srv, run_id)
    page.reload()
    page.wait_for_selector("#rerun-done", timeout=30_000)  # the page says it is done
    link = page.get_attribute("#airflow-run", "href")
    assert link == f"/dags/{DAG_ID}/runs/{quote(run_id)}"
    page.screenshot(path=str(artefacts / "review-rerun-done.png"), full_page=True)
    after = totals(page, issue.column, issue.chain)
    page.screenshot(path=str(artefacts / "review-totals-after-rerun.png"), full_page=True)
    q_after = totals(q, q_column, dup.chain)
    q.screenshot(path=str(artefacts / "review-totals-after-keep.png"), full_page=True)

    assert set(states) >= {
        "ingest_merge",
        "validate",
        "docs_due",
        "roll_up",
        "publish",
        "workbook",
    }

    # each total moves by exactly what the actions changed: the correction (new - old of
    # the corrected column) along its chain, the kept row's values along the duplicate's
    def expected(column: str, code: str) -> int:
        moved = new - issue.old if column == issue.column and code in issue.chain else 0
        return moved + (dup.values.get(column, 0) if code in dup.chain else 0)

    assert {c: after[c] - before[c] for c in issue.chain} == {
        c: expected(issue.column, c) for c in issue.chain
    }
    assert {c: q_after[c] - q_before[c] for c in dup.chain} == {
        c: expected(q_column, c) for c in dup.chain
    }
    assert q_after[dup.county] - q_before[dup.county] == dup.values[q_column]
    reruns = store.reruns_for(srv.engine, PERIOD)
    assert reruns[["username", "dag_run_id"]].values.tolist() == [["steward_a", run_id]]
    audit = store.actions_for(srv.engine, PERIOD)
    assert audit[["action", "username", "old_value", "new_value"]].values.tolist()[0] == [
        "correct",
        "steward_a",
        str(issue.old),
        str(new),
    ]
    assert audit[["action", "username", "unit_code"]].values.tolist()[1:] == [
        ["keep", "steward_q", dup.unit_code]
    ]
    left = queries.issues(srv.engine, DAY, [dup.county], "quarantine")
    assert not (left["rule"] == "unique_unit_day").any()
    # the re-run's docs_due had the scheduler start huizong_data_docs, which rebuilt them
    docs_states = _wait_for_run(srv, _docs_run_after(srv, rerun_at), "huizong_data_docs")
    assert docs_states == {"build_data_docs": "success"}
    assert docs_index.stat().st_mtime > docs_before
    for name in (
        "review-corrected.png",
        "review-totals-after-rerun.png",
        "review-county-data-docs.png",
        "review-duplicate-before-keep.png",
        "review-duplicate-after-keep.png",
    ):
        assert (artefacts / name).stat().st_size > 0, name
