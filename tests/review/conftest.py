"""Review tests: a small warehouse (two counties of 沧州), real stored files, real Airflow JWTs.

Airflow reads ``AIRFLOW__*`` variables whenever an option is looked up, so setting them
here (before any token is made) is enough; AIRFLOW_HOME and the metadata DB are only
defaulted, so that a session that also runs tests/orchestration shares its home.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from huizong import frames
from huizong.catalogue import Catalogue, load_catalogue
from huizong.publish.warehouse import schema_statements
from huizong.review import store
from huizong.settings import Settings
from huizong.sqlfiles import sql_dir

_HOME = Path(tempfile.mkdtemp(prefix="huizong-review-airflow-"))
os.environ.setdefault("AIRFLOW_HOME", str(_HOME))
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_HOME / 'airflow.db'}")
os.environ.setdefault(
    "AIRFLOW__CORE__PLUGINS_FOLDER", str(Path(__file__).resolve().parents[2] / "plugins")
)
os.environ.update(
    {
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": (
            "steward_a:user,steward_b:user,city:user,nobody:user"
        ),
        "AIRFLOW__API_AUTH__JWT_SECRET": "huizong-review-test-secret-" + "0123456789abcdef" * 4,
        "GX_ANALYTICS_ENABLED": "false",
    }
)

DAY = date(2026, 11, 26)
PERIOD = DAY.isoformat()
COUNTY_A, COUNTY_B = "130903", "130902"  # 运河区, 新华区
VILLAGE_A, VILLAGE_B = "130903001007", "130902001001"
DEPT_A = "130903D01"


@dataclass
class Row:
    """A received row planted in the warehouse, with what the tests need to address it."""

    unit_code: str
    unit_name: str
    file_id: str
    file_name: str
    sheet: str
    row_number: int
    values: dict[str, str]


@dataclass
class Warehouse:
    settings: Settings
    engine: sa.Engine
    catalogue: Catalogue
    a_error: Row  # county A village, quarantined (max:persons_screened)
    a_warning: Row  # county A department, warning (warn_above:households_visited)
    b_error: Row  # county B village, quarantined
    b_warning: Row  # county B village, warning

    def actions(self) -> pd.DataFrame:
        return store.actions_for(self.engine, PERIOD)


def _submission(
    settings: Settings, catalogue: Catalogue, unit: str, name: str, values: dict[str, str]
) -> Row:
    """Write a one-row CSV submission into the content-addressed store, as ingest does."""
    header = ["unit_code", "unit_name", "period", *catalogue.codes]
    cells = {"unit_code": unit, "unit_name": name, "period": PERIOD}
    cells.update({c: str(i % 7) for i, c in enumerate(catalogue.codes) if c in _numeric(catalogue)})
    cells.update({"problems": "无", "suggestions": ""})
    cells.update(values)
    lines = [",".join(header), ",".join(cells.get(c, "") for c in header)]
    content = ("\n".join(lines) + "\n").encode("utf-8")
    file_id = hashlib.sha256(content).hexdigest()
    settings.store_dir.mkdir(parents=True, exist_ok=True)
    (settings.store_dir / f"{file_id}.csv").write_bytes(content)
    return Row(unit, name, file_id, f"{name}.csv", "", 2, {c: cells.get(c, "") for c in header})


def _numeric(catalogue: Catalogue) -> set[str]:
    return {i.code for i in catalogue.numeric}


def _issue(row: Row, column: str, rule: str, severity: str) -> dict[str, object]:
    return {
        "period": PERIOD,
        "file_id": row.file_id,
        "file_name": row.file_name,
        "sheet": row.sheet,
        "row_number": row.row_number,
        "unit_code": row.unit_code,
        "unit_name": row.unit_name,
        "column": column,
        "value": row.values[column],
        "rule": rule,
        "severity": severity,
        "message_zh": f"{column} 超出范围",
        "message_en": f"{column} out of range",
    }


def _ledger(row: Row) -> dict[str, object]:
    return {
        "period": PERIOD,
        "file_id": row.file_id,
        "file_name": row.file_name,
        "source": row.file_name,
        "size_bytes": 100,
        "received_at": "2026-11-26 10:00:00+00:00",
        "form": "epidemic_daily",
        "units": row.unit_code,
        "rows_received": 1,
        "rows_accepted": 0,
        "rows_quarantined": 1,
        "rows_superseded": 0,
        "status": "quarantined",
        "duplicate_of": None,
        "extra_columns": "",
        "message": "",
    }


#: The warehouse's own DDL (sql/schema, owned by publish) for the tables review reads.
WAREHOUSE_DDL = [
    "010_consolidated.sql",
    "040_quarantine.sql",
    "050_validation_warning.sql",
    "060_submission_ledger.sql",
    "020_completeness.sql",
    "030_missing_reporter.sql",
    "080_org_unit.sql",
    "100_publish_version.sql",
    "110_consolidated_change.sql",
    "112_completeness_change.sql",
]

#: Version 2 of the day: a correction in each county moved persons_screened by +5;
#: (code, name, level, parent, old, new, cause). The city's cause names both counties.
CHANGES = [
    (
        "1309",
        "沧州市",
        2,
        "13",
        95,
        100,
        "130903001007 大化社区居民委员会：审核更正; 130902001001 建北社区居民委员会：审核更正",
    ),
    ("130903", "运河区", 3, "1309", 55, 60, "130903001007 大化社区居民委员会：审核更正"),
    ("130903001", "南环中路街道", 4, "130903", 55, 60, "130903001007 大化社区居民委员会：审核更正"),
    ("130902", "新华区", 3, "1309", 35, 40, "130902001001 建北社区居民委员会：审核更正"),
    ("130902001", "建设北街街道", 4, "130902", 35, 40, "130902001001 建北社区居民委员会：审核更正"),
]

#: Version 2 also counted one more village of 运河区 as reported — households_visited of
#: 南环中路街道 kept its value, only its reporting_units moved (not a changed value) — and
#: completeness moved: (code, name, level, reported old, new, cause).
REPORTING_ONLY = ("130903001", "南环中路街道", 4, "130903", 7, 1, 2)
COMPLETENESS_CHANGES = [
    ("1309", "沧州市", 2, 3, 4, "130903001008 迟报甲社区居民委员会：迟报"),
    ("130903", "运河区", 3, 1, 2, "130903001008 迟报甲社区居民委员会：迟报"),
    ("130902", "新华区", 3, 1, 2, "130902001003 迟报乙社区居民委员会：迟报"),
]

#: Published totals of persons_screened: (code, name, level, kind, parent, value).
TOTALS = [
    ("1309", "沧州市", 2, "city", "13", 100),
    ("130903", "运河区", 3, "county", "1309", 60),
    ("130903001", "南环中路街道", 4, "township", "130903", 60),
    ("130902", "新华区", 3, "county", "1309", 40),
    ("130902001", "建设北街街道", 4, "township", "130902", 40),
    (VILLAGE_A, "大化社区居民委员会", 5, "village", "130903001", 60),
    (DEPT_A, "运河区教育局", 3, "department", "130903", 7),
]


#: Completeness published for the day: (code, name, level, kind, expected, reported, late).
COMPLETENESS = [
    ("1309", "沧州市", 2, "city", 6, 4, 1),
    ("130903", "运河区", 3, "county", 3, 2, 1),
    ("130903001", "南环中路街道", 4, "township", 2, 1, 0),
    ("130902", "新华区", 3, "county", 3, 2, 0),
    ("130902001", "建设北街街道", 4, "township", 3, 2, 0),
]
#: Units that have not reported: (code, name, kind, parent, township); one per county.
MISSING_A = ("130903001009", "未报甲社区居民委员会", "village", "130903001", "130903001")
MISSING_A_DEPT = ("130903D02", "运河区卫生健康局", "department", "130903", None)
MISSING_B = ("130902001005", "未报乙社区居民委员会", "village", "130902001", "130902001")


def _completeness() -> pd.DataFrame:
    frame = pd.DataFrame(
        COMPLETENESS,
        columns=[
            "unit_code",
            "unit_name",
            "level",
            "kind",
            "expected_units",
            "reported_units",
            "late_units",
        ],
    )
    frame.insert(0, "period", DAY)
    frame["missing_units"] = frame["expected_units"] - frame["reported_units"]
    frame["reporting_rate"] = frame["reported_units"] / frame["expected_units"]
    frame["on_time_units"] = frame["reported_units"] - frame["late_units"]
    return frame


def _missing() -> pd.DataFrame:
    frame = pd.DataFrame(
        [MISSING_A, MISSING_A_DEPT, MISSING_B],
        columns=["unit_code", "unit_name", "kind", "parent_code", "township_code"],
    )
    frame.insert(0, "period", DAY)
    frame["county_code"] = frame["unit_code"].str[:6]
    frame["city_code"] = "1309"
    return frame


#: persons_screened of the previous published day (two days back: a day without a
#: publication in between): the change is counted from there. 运河区 had 45, so +15.
PREVIOUS_DAY = date(2026, 11, 24)
PREVIOUS = {"1309": 90, "130903": 45, "130903001": 45, "130902": 45, "130902001": 45}


def _versions() -> tuple[pd.DataFrame, pd.DataFrame]:
    """publish_version rows 1 (nightly) and 2 (correction) and version 2's change rows."""
    versions = pd.DataFrame(
        {
            "period": DAY,
            "version": [1, 2],
            "published_at": pd.to_datetime(["2026-11-26 18:00", "2026-11-27 01:00"], utc=True),
            "trigger": ["nightly", "correction"],
            "inputs": 4,
            "inputs_digest": "",
            "tables_digest": ["v1", "v2"],
            "changed_values": [0, len(CHANGES)],
            "changed_units": [0, len(CHANGES)],
            "restatement": 0,
        }
    )
    rows = pd.DataFrame(
        CHANGES,
        columns=[
            "unit_code",
            "new_unit_name",
            "new_level",
            "new_parent_code",
            "old",
            "new",
            "cause",
        ],
    )
    rows.insert(0, "version", 2)
    rows.insert(0, "period", DAY)
    rows["indicator"] = "persons_screened"
    rows["change"] = "changed"
    for side in ("old", "new"):
        rows[f"{side}_unit_name"] = rows["new_unit_name"]
        rows[f"{side}_level"] = rows["new_level"]
        rows[f"{side}_value"] = rows.pop(side).astype("float64")
        rows[f"{side}_status"] = "reported"
        rows[f"{side}_reporting_units"] = 1
    code, name, level, parent, value, before, after = REPORTING_ONLY
    only = {
        "period": DAY,
        "version": 2,
        "unit_code": code,
        "indicator": "households_visited",
        "change": "changed",
        "cause": "130903001008 迟报甲社区居民委员会：迟报",
        "new_parent_code": parent,
    }
    for side, units in (("old", before), ("new", after)):
        only |= {
            f"{side}_unit_name": name,
            f"{side}_level": level,
            f"{side}_value": float(value),
            f"{side}_status": "reported",
            f"{side}_reporting_units": units,
        }
    rows = pd.concat([rows, pd.DataFrame([only])], ignore_index=True)
    return versions, rows


def _completeness_changes() -> pd.DataFrame:
    """Version 2's completeness_change rows: one more village reported in each county."""
    frame = pd.DataFrame(
        COMPLETENESS_CHANGES,
        columns=["unit_code", "new_unit_name", "new_level", "old", "new", "cause"],
    )
    frame.insert(0, "version", 2)
    frame.insert(0, "period", DAY)
    frame["change"] = "changed"
    for side in ("old", "new"):
        frame[f"{side}_unit_name"] = frame["new_unit_name"]
        frame[f"{side}_level"] = frame["new_level"]
        frame[f"{side}_expected_units"] = 6
        frame[f"{side}_reported_units"] = frame.pop(side)
    return frame


def _org_units() -> pd.DataFrame:
    """The registry the names come from: every unit the fixture mentions."""
    units = [(c, n, lvl, k, parent) for c, n, lvl, k, parent, _ in TOTALS]
    units += [
        (c, n, 5 if k == "village" else 3, k, parent)
        for c, n, k, parent, _ in (MISSING_A, MISSING_A_DEPT, MISSING_B)
    ]
    units += [("130902001001", "建北社区居民委员会", 5, "village", "130902001")]
    units += [("130902001002", "院东社区居民委员会", 5, "village", "130902001")]
    return pd.DataFrame(units, columns=["code", "name", "level", "kind", "parent_code"])


def _consolidated() -> pd.DataFrame:
    frame = pd.DataFrame(
        TOTALS, columns=["unit_code", "unit_name", "level", "kind", "parent_code", "value"]
    )
    frame.insert(0, "period", DAY)
    frame["indicator"] = "persons_screened"
    frame["value"] = frame["value"].astype("float64")
    frame["value_text"] = None
    frame["status"] = "reported"
    frame["reporting_units"] = 1
    frame["expected_units"] = 1
    earlier = frame[frame["unit_code"].isin(list(PREVIOUS))].copy()
    earlier["period"] = PREVIOUS_DAY
    earlier["value"] = earlier["unit_code"].map(PREVIOUS).astype("float64")
    frame = pd.concat([frame, earlier], ignore_index=True)
    return frame.reindex(columns=frames.CONSOLIDATED_COLUMNS)


@pytest.fixture
def warehouse(tmp_path: Path, warehouse_url: str) -> Iterator[Warehouse]:
    """Quarantine, warnings and ledger for one day in two counties; stewards A and B."""
    wh = build_warehouse(tmp_path, warehouse_url)
    yield wh
    wh.engine.dispose()


def build_warehouse(tmp_path: Path, warehouse_url: str) -> Warehouse:
    settings = Settings(home=tmp_path / "home", inbox_root=tmp_path / "inbox")
    (tmp_path / "wh").mkdir(exist_ok=True)
    engine = sa.create_engine(warehouse_url)
    with engine.begin() as conn:
        for name in WAREHOUSE_DDL:
            sql = (sql_dir() / "schema" / name).read_text(encoding="utf-8")
            conn.execute(sa.text(sql.strip().rstrip(";")))
    catalogue = load_catalogue("epidemic_daily")
    report_ddl = next(s for s in schema_statements(catalogue) if "TABLE IF NOT EXISTS report " in s)
    with engine.begin() as conn:
        conn.execute(sa.text(report_ddl.strip().rstrip(";")))  # empty: no accepted rows
    a_err = _submission(
        settings, catalogue, VILLAGE_A, "大化社区居民委员会", {"persons_screened": "250000"}
    )
    a_warn = _submission(
        settings, catalogue, DEPT_A, "运河区教育局", {"households_visited": "6000"}
    )
    b_err = _submission(
        settings, catalogue, VILLAGE_B, "建北社区居民委员会", {"persons_screened": "300000"}
    )
    b_warn = _submission(
        settings, catalogue, "130902001002", "院东社区居民委员会", {"households_visited": "7000"}
    )
    quarantine = pd.DataFrame(
        [
            _issue(a_err, "persons_screened", "max:persons_screened", "error"),
            _issue(b_err, "persons_screened", "max:persons_screened", "error"),
        ],
        columns=frames.ISSUE_COLUMNS,
    )
    warnings = pd.DataFrame(
        [
            _issue(a_warn, "households_visited", "warn_above:households_visited", "warning"),
            _issue(b_warn, "households_visited", "warn_above:households_visited", "warning"),
        ],
        columns=frames.ISSUE_COLUMNS,
    )
    ledger = pd.DataFrame([_ledger(r) for r in (a_err, a_warn, b_err, b_warn)])
    ledger["period"] = DAY
    ledger["received_at"] = pd.Timestamp("2026-11-26 10:00", tz="UTC")
    for frame in (quarantine, warnings):
        frame["period"] = DAY  # a date: the warehouse column is DATE on PostgreSQL
    _consolidated().to_sql("consolidated", engine, index=False, if_exists="append")
    _completeness().to_sql("completeness", engine, index=False, if_exists="append")
    _missing().to_sql("missing_reporter", engine, index=False, if_exists="append")
    _org_units().to_sql("org_unit", engine, index=False, if_exists="append")
    versions, changes = _versions()
    versions.to_sql("publish_version", engine, index=False, if_exists="append")
    changes.to_sql("consolidated_change", engine, index=False, if_exists="append")
    _completeness_changes().to_sql("completeness_change", engine, index=False, if_exists="append")
    quarantine.to_sql("quarantine", engine, index=False, if_exists="append")
    warnings.to_sql("validation_warning", engine, index=False, if_exists="append")
    ledger.reindex(columns=["period", *frames.LEDGER_COLUMNS[1:]]).to_sql(
        "submission_ledger", engine, index=False, if_exists="append"
    )
    store.ensure_schema(engine)
    store.assign_scope(engine, "steward_a", [COUNTY_A])
    store.assign_scope(engine, "steward_b", [COUNTY_B])
    return Warehouse(settings, engine, catalogue, a_err, a_warn, b_err, b_warn)


@pytest.fixture(scope="session")
def airflow_token() -> Callable[[str], str]:
    """Make real Airflow JWTs in-process with the configured SimpleAuthManager.

    Validation looks the token's id up in ``revoked_token``; only that table of the
    metadata DB is created (a full ``airflow db migrate`` costs 15 s).
    """
    from airflow import settings as airflow_settings
    from airflow.api_fastapi.app import init_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.models.revoked_token import RevokedToken

    RevokedToken.__table__.create(airflow_settings.engine, checkfirst=True)
    manager = init_auth_manager()

    def make(username: str) -> str:
        return manager.generate_jwt(SimpleAuthManagerUser(username=username, role="user"))

    return make


# ---- a real Airflow api-server and Debian's Chromium, for browser tests ------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTEFACTS = Path(
    os.environ.get("HUIZONG_TEST_ARTEFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)


def require_chromium() -> None:
    """CI (HUIZONG_REQUIRE_BROWSER=1) fails without the browser; elsewhere it says how."""
    if Path(CHROMIUM).exists():
        return
    message = "Debian chromium is not installed: `make browser` (as root) installs it"
    if os.environ.get("HUIZONG_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """The one headless Debian Chromium (Playwright) of a browser-test module; without it
    the module is skipped (failed in CI, see :func:`require_chromium`). Ask for it before
    the module's server fixture so a machine without Chromium starts no api-server."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def login(
    browser: Any, base: str, username: str, password: str, timeout_ms: int = 30_000, **context: Any
) -> Any:
    """A new 1366x768 session (its own context: cookies, ``context`` options such as
    ``accept_downloads``) logged in through Airflow's own login page at ``base``."""
    page = browser.new_context(viewport={"width": 1366, "height": 768}, **context).new_page()
    page.set_default_timeout(timeout_ms)
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/auth/login" not in url)
    return page


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_group(proc: object) -> None:
    """Stop a started component and everything it started (its own process group)."""
    import contextlib
    import signal
    import subprocess

    assert isinstance(proc, subprocess.Popen)
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def wait_healthy(
    base: str, alive: Callable[[], bool], tail: Callable[[], str], seconds: float
) -> None:
    """Until Airflow's health endpoint answers; fails with the logs' ``tail`` when a
    component died (``alive`` false) or ``seconds`` passed."""
    import time

    import httpx

    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/api/v2/monitor/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert alive(), tail()
        assert time.monotonic() < deadline, f"api-server not healthy in {seconds} s\n" + tail()
        time.sleep(0.5)


@dataclass
class ApiServer:
    """``airflow api-server`` (UI, REST API, the review plugin) on a free port."""

    base: str
    logs: Path

    def tail(self, n: int = 3000) -> str:
        return self.logs.read_text(errors="replace")[-n:]


def airflow_api_server(
    tmp: Path, settings: Settings, passwords: dict[str, str]
) -> Iterator[ApiServer]:
    """Start an api-server with its own SQLite metadata DB and SimpleAuthManager users
    (``passwords``), serving the warehouse of ``settings``; stopped when the caller's
    ``yield from`` ends. No scheduler: for pages and downloads, not for runs."""
    import json
    import subprocess
    import sys

    home = tmp / "airflow"
    home.mkdir()
    (home / "passwords.json").write_text(json.dumps(passwords), encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:user" for u in passwords),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__API__WORKERS": "1",
        "HUIZONG_HOME": str(settings.home),
        "HUIZONG_INBOX": str(settings.inbox_root),
    }
    env.pop("HUIZONG_WAREHOUSE_URL", None)  # the SQLite file under HUIZONG_HOME
    airflow = str(Path(sys.executable).with_name("airflow"))
    done = subprocess.run(
        [airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    logs = tmp / "api-server.log"
    with logs.open("w") as log:
        proc = subprocess.Popen(
            [airflow, "api-server", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ApiServer(base, logs)
    try:
        wait_healthy(base, lambda: proc.poll() is None, server.tail, 120)
        yield server
    finally:
        stop_group(proc)


def plant_duplicate(wh: Warehouse, row: Row, values: dict[str, str]) -> Row:
    """A second file with ``row``'s unit for the day, landed at the same instant: both rows
    quarantined as ``unique_unit_day`` (as validation does), the new file in the ledger."""
    twin = _submission(wh.settings, wh.catalogue, row.unit_code, row.unit_name + "_2", values)
    twin = Row(twin.unit_code, row.unit_name, twin.file_id, twin.file_name, "", 2, twin.values)
    issues = pd.DataFrame(
        [_issue(r, "unit_code", "unique_unit_day", "error") for r in (row, twin)],
        columns=frames.ISSUE_COLUMNS,
    )
    issues["period"] = DAY
    issues["column"] = None
    ledger = pd.DataFrame([_ledger(twin)])
    ledger["period"] = DAY
    ledger["received_at"] = pd.Timestamp("2026-11-26 10:00", tz="UTC")
    issues.to_sql("quarantine", wh.engine, index=False, if_exists="append")
    ledger.reindex(columns=["period", *frames.LEDGER_COLUMNS[1:]]).to_sql(
        "submission_ledger", wh.engine, index=False, if_exists="append"
    )
    return twin
