"""HTTP tests of the review app with real Airflow JWTs: 401 without a user on every route,
nothing of county B for county A's steward on every route, and the actions through forms.

Routes are discovered from ``app.routes``, so a new route without a case here fails.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from huizong.review import store
from huizong.review.airflow_api import AirflowError, InMemoryAirflow
from huizong.review.app import create_app
from huizong.settings import Settings

from .conftest import (
    COUNTY_A,
    MISSING_A,
    MISSING_A_DEPT,
    MISSING_B,
    PERIOD,
    PREVIOUS_DAY,
    Row,
    Warehouse,
    build_warehouse,
    plant_duplicate,
)

Route = tuple[str, str]  # (method, path template)


def app_routes(app: Any) -> list[Route]:
    out = []
    for route in app.routes:
        assert isinstance(route, APIRoute), f"non-API route (mount/static?) {route}"
        out.extend((m, route.path) for m in sorted(route.methods))
    return sorted(out)


ALL_ROUTES = app_routes(create_app(Settings(home=Path("/nonexistent-huizong-home"))))


@pytest.fixture
def warehouse_url(tmp_path: Path) -> str:
    """HTTP behaviour does not depend on the dialect (test_actions covers PostgreSQL)."""
    return f"sqlite:///{tmp_path / 'wh' / 'warehouse.sqlite'}"


# ---- a stand-in for Airflow's public API (only the one call the app makes) -------------


@dataclass
class FakeAirflow:
    url: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture(scope="module")
def fake_airflow() -> Iterator[FakeAirflow]:
    fake = FakeAirflow()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            fake.calls.append(
                {
                    "path": self.path,
                    "authorization": self.headers.get("authorization"),
                    "json": json.loads(body),
                }
            )
            out = json.dumps({"dag_run_id": "manual__review_test"}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def do_GET(self) -> None:
            fake.calls.append(
                {"path": self.path, "authorization": self.headers.get("authorization")}
            )
            out = json.dumps({"dag_run_id": self.path.rsplit("/", 1)[-1], "state": "running"})
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out.encode())))
            self.end_headers()
            self.wfile.write(out.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@dataclass
class Env:
    wh: Warehouse
    client: TestClient
    token: Callable[[str], str]
    airflow: FakeAirflow

    def as_(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}


@pytest.fixture
def env(
    warehouse: Warehouse, airflow_token: Callable[[str], str], fake_airflow: FakeAirflow
) -> Iterator[Env]:
    yield from _env(warehouse, airflow_token, fake_airflow)


@pytest.fixture(scope="module")
def shared_env(
    tmp_path_factory: pytest.TempPathFactory,
    airflow_token: Callable[[str], str],
    fake_airflow: FakeAirflow,
) -> Iterator[Env]:
    """One warehouse for tests that must not change anything (they assert so)."""
    tmp = tmp_path_factory.mktemp("shared")
    (tmp / "wh").mkdir()
    wh = build_warehouse(tmp, f"sqlite:///{tmp / 'wh' / 'warehouse.sqlite'}")
    yield from _env(wh, airflow_token, fake_airflow)
    wh.engine.dispose()


@pytest.fixture(scope="module")
def b_acted_env(
    tmp_path_factory: pytest.TempPathFactory,
    airflow_token: Callable[[str], str],
    fake_airflow: FakeAirflow,
) -> Iterator[Env]:
    """A warehouse where county B's steward has rejected B's row (B is in the audit)."""
    tmp = tmp_path_factory.mktemp("b_acted")
    (tmp / "wh").mkdir()
    wh = build_warehouse(tmp, f"sqlite:///{tmp / 'wh' / 'warehouse.sqlite'}")
    plant_duplicate(wh, wh.b_error, {"persons_screened": "41"})
    _plant_received(wh)
    for env in _env(wh, airflow_token, fake_airflow):
        done = env.client.post(
            f"/runs/{PERIOD}/reject",
            data=_row_form(wh.b_error, justification="请重报"),
            headers=env.as_("steward_b"),
            follow_redirects=False,
        )
        assert done.status_code == 303
        yield env
    wh.engine.dispose()


def _env(
    warehouse: Warehouse, airflow_token: Callable[[str], str], fake_airflow: FakeAirflow
) -> Iterator[Env]:
    app = create_app(warehouse.settings, engine=warehouse.engine, airflow_api_url=fake_airflow.url)
    store.assign_scope(warehouse.engine, "city", ["1309"])
    docs = warehouse.settings.home / "data_docs" / PERIOD
    docs.mkdir(parents=True)
    (docs / "index.html").write_text("<html><body>数据文档 docs</body></html>", encoding="utf-8")
    fake_airflow.calls.clear()
    with TestClient(app) as client:
        yield Env(warehouse, client, airflow_token, fake_airflow)


def _row_form(row: Row, **extra: object) -> dict[str, object]:
    return {"file_id": row.file_id, "sheet": row.sheet, "row_number": row.row_number, **extra}


def _fill(path: str, row: Row) -> str:
    return (
        path.replace("{period}", PERIOD)
        .replace("{unit_code}", row.unit_code)
        .replace("{path:path}", "index.html")
        .replace("{run_id}", "manual__review_test")
        .replace("{fmt}", "xlsx")
        .replace("{indicator}", "persons_screened")
    )


def _request(env: Env, method: str, path: str, row: Row, headers: dict[str, str]) -> Any:
    """A well-formed request for ``row`` on any route (params and form fields filled)."""
    url = _fill(path, row)
    if method == "GET":
        params = _row_form(row) if path.endswith("/row") else None
        return env.client.get(url, params=params, headers=headers, follow_redirects=False)
    form = _row_form(
        row,
        rule="max:persons_screened" if row is env.wh.b_error else "warn_above:households_visited",
        justification="理由 because",
        column="persons_screened",
        new_value="1",
    )
    return env.client.post(url, data=form, headers=headers, follow_redirects=False)


# ---- 401 without a user, on every route ----------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ALL_ROUTES, ids=[f"{m} {p}" for m, p in ALL_ROUTES])
def test_no_token_is_401_everywhere(shared_env: Env, method: str, path: str) -> None:
    env = shared_env
    resp = _request(env, method, path, env.wh.a_error, headers={})
    assert resp.status_code == 401, resp.text
    assert env.wh.actions().empty
    forged = _request(env, method, path, env.wh.a_error, {"Authorization": "Bearer not-a-jwt"})
    assert forged.status_code in (401, 403), forged.text
    cookie = _request(env, method, path, env.wh.a_error, {"Cookie": "_token=garbage"})
    assert cookie.status_code in (401, 403), cookie.text
    assert env.wh.actions().empty and not env.airflow.calls


# ---- county A's steward gets nothing of county B, on every route ----------------------------

#: how each route must treat steward A asking for county B: "deny" = 403/404 and nothing
#: written; "filter" = 200 but no trace of county B in the body.
B_CASES: dict[Route, str] = {
    ("GET", "/"): "filter",
    ("GET", "/api/runs"): "filter",
    ("GET", "/runs/{period}"): "filter",
    ("GET", "/api/runs/{period}"): "filter",
    ("GET", "/runs/{period}/units/{unit_code}"): "deny",
    ("GET", "/runs/{period}/row"): "deny",
    ("GET", "/runs/{period}/audit"): "filter",
    ("GET", "/api/runs/{period}/audit"): "filter",
    # A's own site, built from A's rows only (see test_a_county_steward_opens_data_docs_*)
    ("GET", "/runs/{period}/data-docs/{path:path}"): "filter",
    ("POST", "/runs/{period}/accept"): "deny",
    ("POST", "/runs/{period}/correct"): "deny",
    ("POST", "/runs/{period}/reject"): "deny",
    ("POST", "/runs/{period}/mark-reviewed"): "deny",
    ("POST", "/runs/{period}/keep"): "deny",  # B's duplicate (planted in b_acted_env)
    ("POST", "/runs/{period}/rerun"): "filter",  # not unit data; see test_rerun_*
    ("GET", "/runs/{period}/reruns/{run_id}"): "deny",  # only re-runs of overlapping units
    ("GET", "/runs/{period}/totals"): "filter",  # see test_totals_*
    ("GET", "/static/review.css"): "filter",  # no data: the same file for everyone
    ("GET", "/api/runs/{period}/totals"): "filter",
    ("GET", "/upload/{period}"): "filter",  # the form: names only the clerk's own units
    ("POST", "/upload/{period}"): "deny",  # unit_code of county B: 403, nothing kept
    ("GET", "/downloads/"): "filter",  # lists only the reader's own units
    ("GET", "/downloads/{unit_code}/"): "deny",  # county B's village: 403
    ("GET", "/downloads/{unit_code}/{period}/{fmt}"): "deny",  # county B's workbook: 403
    ("GET", "/runs/{period}/versions"): "filter",  # day's versions; only own sign-offs
    ("POST", "/runs/{period}/signoff"): "deny",  # unit_code of county B: 403, nothing kept
    ("GET", "/runs/{period}/changes"): "filter",  # only own units' changes (B's planted)
    ("GET", "/trace/{unit_code}/{indicator}/{period}"): "deny",  # B's village: 403
}


def test_every_route_has_a_scope_case() -> None:
    assert set(B_CASES) == set(ALL_ROUTES)


def _b_traces(wh: Warehouse) -> list[str]:
    out = []
    for row in (wh.b_error, wh.b_warning):
        out += [row.unit_code, row.unit_name, row.file_id, row.file_name]
    return [*out, MISSING_B[0], MISSING_B[1], "新华区", "建设北街街道"]


@pytest.mark.parametrize(("method", "path"), ALL_ROUTES, ids=[f"{m} {p}" for m, p in ALL_ROUTES])
def test_steward_sees_nothing_of_another_county(b_acted_env: Env, method: str, path: str) -> None:
    env = b_acted_env
    wh = env.wh
    before = wh.actions()
    assert before["unit_code"].tolist() == [wh.b_error.unit_code]
    # B's warning row for mark-reviewed, B's quarantined row for everything else
    row = wh.b_warning if path.endswith("mark-reviewed") else wh.b_error
    resp = _request(env, method, path, row, env.as_("steward_a"))
    if B_CASES[(method, path)] == "deny":
        assert resp.status_code in (403, 404), resp.text
    else:
        assert resp.status_code == (303 if path.endswith("/rerun") else 200), resp.text
    for trace in _b_traces(wh):
        assert trace not in resp.text, (trace, resp.text[:2000])
    assert len(wh.actions()) == len(before)
    corrections = wh.settings.inbox_for(date.fromisoformat(PERIOD)) / "_corrections"
    assert not corrections.exists()


#: The only routes a reader (``huizong review assign --role reader``) may use.
READER_ROUTES = {
    ("GET", "/downloads/"),
    ("GET", "/downloads/{unit_code}/"),
    ("GET", "/downloads/{unit_code}/{period}/{fmt}"),
    ("GET", "/static/review.css"),
    ("GET", "/runs/{period}/changes"),  # what changed in their units (linked from downloads)
}


@pytest.mark.parametrize(("method", "path"), ALL_ROUTES, ids=[f"{m} {p}" for m, p in ALL_ROUTES])
def test_reader_gets_only_the_downloads(shared_env: Env, method: str, path: str) -> None:
    """A reader of county A: 403 on every steward page and every POST (sent with a bearer
    token, which needs no CSRF token: the role is what refuses it); the downloads work."""
    env = shared_env
    store.assign_scope(env.wh.engine, "reader_a", [COUNTY_A], "reader")
    headers = env.as_("reader_a")
    calls = len(env.airflow.calls)
    row = env.wh.a_warning if path.endswith("mark-reviewed") else env.wh.a_error
    resp = _request(env, method, path, row, headers)
    if (method, path) in READER_ROUTES:
        assert resp.status_code in (200, 404), resp.text  # 404: the village has no file
        assert resp.status_code == 200 or path.endswith("{fmt}"), resp.text
    else:
        assert resp.status_code == 403, resp.text
        if method == "GET" and path == "/":
            assert "/downloads/" in resp.text  # the refusal points to the reader's page
            assert "<nav>" not in resp.text  # no empty bar of links above the refusal
    assert env.wh.actions().empty and len(env.airflow.calls) == calls
    assert store.reruns_for(env.wh.engine, PERIOD).empty


def test_steward_b_does_see_county_b(env: Env) -> None:
    """The filtered pages above are not empty by accident: B's steward sees B."""
    page = env.client.get(f"/runs/{PERIOD}", headers=env.as_("steward_b"))
    assert env.wh.b_error.file_name in page.text and env.wh.b_error.unit_code in page.text
    assert env.wh.a_error.unit_code not in page.text
    runs = env.client.get("/api/runs", headers=env.as_("steward_b")).json()
    assert runs == [{"period": PERIOD, "files": 2, "quarantined": 1, "warnings": 1}]


def test_user_without_assignment_sees_nothing(env: Env) -> None:
    h = env.as_("nobody")
    assert env.client.get("/api/runs", headers=h).json() == []
    day = env.client.get(f"/api/runs/{PERIOD}", headers=h).json()
    assert day["quarantine"] == day["warnings"] == day["files"] == []
    assert env.client.post(f"/runs/{PERIOD}/rerun", headers=h).status_code == 403
    assert not env.airflow.calls


# ---- pages and actions for one's own county -------------------------------------------------


def test_day_page_groups_and_links(env: Env) -> None:
    wh = env.wh
    resp = env.client.get(f"/runs/{PERIOD}", headers=env.as_("steward_a"))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert '<meta charset="utf-8">' in resp.text
    for text in (
        wh.a_error.unit_code,
        wh.a_error.file_name,
        "max:persons_screened",
        "persons_screened 超出范围",
        "persons_screened out of range",
        "warn_above:households_visited",
        "Mark reviewed",
        f"/runs/{PERIOD}/units/{wh.a_error.unit_code}",
    ):
        assert text in resp.text, text
    assert "仅本辖区" in resp.text  # A's link opens docs of county A only (see below)
    files = resp.text.split("<h2>文件 Files</h2>")[1]
    assert "已隔离 quarantined" in files and "<td>quarantined</td>" not in files  # bilingual
    city = env.client.get(f"/runs/{PERIOD}", headers=env.as_("city"))
    assert f"/runs/{PERIOD}/data-docs/" in city.text
    assert "http://" not in resp.text and "https://" not in resp.text  # no external host


def test_the_files_table_says_when_each_file_arrived_and_whether_late(env: Env) -> None:
    """A trial's stewards could not tell from 文件 Files when a file came nor whether it
    was late: each row gives its arrival in Beijing time and 及时/迟报 by the deadline of
    its level (a village's 18:00 by default), as its receipt told the sender."""
    wh = env.wh
    late = pd.Timestamp("2026-11-26 10:30:01", tz="UTC")  # 18:30:01 in Beijing
    with wh.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE submission_ledger SET received_at = :at WHERE file_id = :f"),
            {"at": late.to_pydatetime(), "f": wh.a_error.file_id},
        )
    resp = env.client.get(f"/runs/{PERIOD}", headers=env.as_("steward_a"))
    files = resp.text.split("<h2>文件 Files</h2>")[1]
    assert "收到时间 Received (北京时间)" in files and "及时/迟报 On time" in files
    rows = {r.split("</td>")[0]: r for r in files.split("<tr><td>")[1:]}
    late_row, on_time_row = rows[wh.a_error.file_name], rows[wh.a_warning.file_name]
    assert "2026-11-26 18:30:01 北京时间" in late_row and "迟报 late" in late_row
    assert "2026-11-26 18:00:00 北京时间" in on_time_row and "及时 on time" in on_time_row


def test_day_page_shows_completeness_first_and_missing_units_collapsed_after_actions(
    env: Env,
) -> None:
    """Before any issue: expected, reported, late of the steward's county. The units that
    have not reported come after the actions (quarantine, warnings), collapsed in a
    ``<details>`` whose summary gives their count, under their township's name (a
    department under none): a city's 503 missing units pushed the actions off the page."""
    text = env.client.get(f"/runs/{PERIOD}", headers=env.as_("steward_a")).text
    first = text.index("报送情况 Completeness")
    assert first < text.index("隔离 · 按单位") and first < text.index("警告 Warnings")
    section = text[first : text.index("隔离 · 按单位")]
    for cell in (
        "运河区",
        "130903",
        '<td class="num">3</td>',
        '<td class="num">2</td>',
        '<td class="num">1</td>',
        "67%",
    ):
        assert cell in section, cell
    assert "沧州市" not in section  # the county steward's own scope, not the city above
    assert MISSING_A[0] not in section  # the list is not before the actions
    start = text.index('<details id="missing-units">')
    assert text.index("警告 Warnings") < start < text.index("文件 Files")
    assert text.index("mark-reviewed") < start  # after the last row action
    missing = text[start : text.index("</details>", start)]
    assert "<summary>未报单位 Units not reported (2)</summary>" in missing
    assert "<details open" not in text  # collapsed
    township = missing.index("南环中路街道 (130903001)")
    outside = missing.index("Units outside a township")
    assert township < missing.index(MISSING_A[0]) < outside
    assert missing.index(MISSING_A[1]) < outside < missing.index(MISSING_A_DEPT[1])
    assert "运河区 (130903)" in missing  # the department's parent, named
    assert "部门 Department" in missing and "村/社区 Village" in missing
    day = env.client.get(f"/api/runs/{PERIOD}", headers=env.as_("steward_a")).json()
    assert [r["unit_code"] for r in day["completeness"]] == ["130903"]
    assert day["completeness"][0]["late_units"] == 1
    assert [r["unit_code"] for r in day["missing"]] == [MISSING_A[0], MISSING_A_DEPT[0]]
    city = env.client.get(f"/api/runs/{PERIOD}", headers=env.as_("city")).json()
    assert [r["unit_code"] for r in city["completeness"]] == ["1309"]
    assert MISSING_B[0] in {r["unit_code"] for r in city["missing"]}


def test_day_page_says_when_everyone_reported(env: Env) -> None:
    with env.wh.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM missing_reporter"))
    text = env.client.get(f"/runs/{PERIOD}", headers=env.as_("steward_a")).text
    assert "全部已报 / everyone has reported" in text


def test_data_docs_served_to_a_steward_of_the_whole_day(env: Env) -> None:
    h = env.as_("city")
    resp = env.client.get(f"/runs/{PERIOD}/data-docs/", headers=h)
    assert resp.status_code == 200 and "数据文档" in resp.text
    assert "charset=utf-8" in resp.headers["content-type"]
    outside = env.client.get(f"/runs/{PERIOD}/data-docs/..%2F..%2Fwarehouse.sqlite", headers=h)
    assert outside.status_code == 404


def test_data_docs_not_built_yet_are_said_so(env: Env) -> None:
    """``huizong_data_docs`` builds a day's docs after the night validated it: until then
    the day page says so where its link would be, and the docs route says so too (it was a
    bare 404 page 没有这个数据文档页面, as if the docs were lost)."""
    import shutil

    shutil.rmtree(env.wh.settings.home / "data_docs" / PERIOD)
    h = env.as_("city")
    day = env.client.get(f"/runs/{PERIOD}", headers=h).text
    assert 'id="data-docs-pending"' in day and "数据文档尚未生成" in day
    assert 'id="data-docs-link"' not in day
    docs = env.client.get(f"/runs/{PERIOD}/data-docs/", headers=h)
    assert docs.status_code == 404 and "数据文档尚未生成" in docs.text
    assert "Data Docs not built yet" in docs.text


def test_row_page_shows_original_row_and_forms(env: Env) -> None:
    wh = env.wh
    resp = env.client.get(
        f"/runs/{PERIOD}/row", params=_row_form(wh.a_error), headers=env.as_("steward_a")
    )
    assert resp.status_code == 200, resp.text
    assert wh.a_error.file_name in resp.text
    assert "250000" in resp.text  # from the stored original file
    assert 'class="bad"' in resp.text  # the offending cell is highlighted
    for action in ("accept", "correct", "reject"):
        assert f'action="/runs/{PERIOD}/{action}"' in resp.text
    assert 'name="justification" required' in resp.text


def test_form_actions_redirect_and_audit(env: Env) -> None:
    wh = env.wh
    h = env.as_("steward_a")
    resp = env.client.post(
        f"/runs/{PERIOD}/accept",
        data=_row_form(wh.a_error, rule="max:persons_screened", justification=""),
        headers=h,
    )
    assert resp.status_code == 400 and wh.actions().empty  # justification required
    resp = env.client.post(
        f"/runs/{PERIOD}/correct",
        data=_row_form(
            wh.a_error, column="persons_screened", new_value="2500", justification="核实 checked"
        ),
        headers=h,
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert resp.headers["location"].startswith(f"/runs/{PERIOD}/row?")
    resp = env.client.post(
        f"/runs/{PERIOD}/mark-reviewed",
        data=_row_form(wh.a_warning, rule="warn_above:households_visited"),
        headers={**h, "Accept": "application/json"},
    )
    assert resp.status_code == 200 and resp.json()["action"] == "mark_reviewed"
    audit = env.client.get(f"/api/runs/{PERIOD}/audit", headers=h).json()
    assert [(a["action"], a["username"], a["old_value"], a["new_value"]) for a in audit] == [
        ("correct", "steward_a", "250000", "2500"),
        ("mark_reviewed", "steward_a", "6000", "6000"),
    ]
    page = env.client.get(f"/runs/{PERIOD}", headers=h).text
    assert "corrected" in page and "250000 → 2500" in page


def test_cross_site_post_is_refused(env: Env) -> None:
    wh = env.wh
    resp = env.client.post(
        f"/runs/{PERIOD}/reject",
        data=_row_form(wh.a_error, justification="x"),
        headers={**env.as_("steward_a"), "Origin": "http://evil.example"},
    )
    assert resp.status_code == 403 and wh.actions().empty


def test_rerun_triggers_the_dag_with_the_users_token(env: Env) -> None:
    token = env.token("steward_a")
    env.client.cookies.set("_token", token)  # as the Airflow UI does
    try:
        csrf = _csrf_from_row_page(env, env.wh.a_error)
        resp = env.client.post(
            f"/runs/{PERIOD}/rerun",
            data={"csrf_token": csrf, "justification": "更正后重算"},
            headers={"Origin": "http://testserver"},
        )
    finally:
        env.client.cookies.clear()
    assert resp.status_code == 200, resp.text
    assert "manual__review_test" in resp.text and 'id="run-state"' in resp.text
    assert env.airflow.calls == [
        {
            "path": "/api/v2/dags/huizong_nightly/dagRuns",
            "authorization": f"Bearer {token}",
            "json": {"logical_date": None, "conf": {"day": PERIOD, "trigger": "correction"}},
        },
        {
            "path": "/api/v2/dags/huizong_nightly/dagRuns/manual__review_test",
            "authorization": f"Bearer {token}",
        },
    ]


def test_unit_page_lists_only_that_unit(env: Env) -> None:
    wh = env.wh
    resp = env.client.get(
        f"/runs/{PERIOD}/units/{wh.a_warning.unit_code}", headers=env.as_("steward_a")
    )
    assert resp.status_code == 200
    assert wh.a_warning.file_name in resp.text and wh.a_error.file_name not in resp.text


def test_bad_day_is_400(env: Env) -> None:
    resp = env.client.get("/runs/not-a-day", headers=env.as_("steward_a"))
    assert resp.status_code == 400
    assert COUNTY_A  # the constant is shared with conftest


def test_totals_show_the_stewards_subtree_and_the_units_above(shared_env: Env) -> None:
    env = shared_env
    got = env.client.get(
        f"/api/runs/{PERIOD}/totals",
        params={"indicator": "persons_screened"},
        headers=env.as_("steward_a"),
    )
    assert got.status_code == 200, got.text
    assert [(r["unit_code"], r["level"], r["value"]) for r in got.json()] == [
        ("1309", 2, 100.0),
        ("130903", 3, 60.0),
        ("130903001", 4, 60.0),
    ]  # not county B or its township, not villages, not departments
    page = env.client.get(f"/runs/{PERIOD}/totals", headers=env.as_("steward_a"))
    assert page.status_code == 200
    assert '<span class="total" id="total-130903001">60</span>' in page.text
    assert '<span class="total" id="total-1309">100</span>' in page.text
    assert "130902" not in page.text and "新华区" not in page.text
    # 应报 here is the indicator's: it says so, and why it can be fewer than 完整性's
    assert "应报（本指标）Expected" in page.text and 'id="expected-note"' in page.text
    city = env.client.get(f"/api/runs/{PERIOD}/totals", headers=env.as_("city")).json()
    # grouped by county: each county followed by its townships
    assert [r["unit_code"] for r in city] == ["1309", "130902", "130902001", "130903", "130903001"]
    assert env.client.get(f"/api/runs/{PERIOD}/totals", headers=env.as_("nobody")).json() == []
    bad = env.client.get(
        f"/runs/{PERIOD}/totals", params={"indicator": "problems"}, headers=env.as_("city")
    )
    assert bad.status_code == 400  # a text indicator has no totals


def test_totals_show_the_change_from_the_previous_published_day(env: Env) -> None:
    """较上日增减 against the latest earlier published day (two days back here), per unit;
    a unit not published that day has no change rather than a made-up one."""
    h = env.as_("city")
    got = env.client.get(f"/api/runs/{PERIOD}/totals", headers=h).json()
    change = {r["unit_code"]: r["change"] for r in got}
    assert change == {
        "1309": 10.0,
        "130902": -5.0,
        "130902001": -5.0,
        "130903": 15.0,
        "130903001": 15.0,
    }
    assert {r["previous_period"] for r in got} == {PREVIOUS_DAY.isoformat()}
    page = env.client.get(f"/runs/{PERIOD}/totals", headers=h).text
    assert (
        "较上日增减 Change" in page
        and '<td class="num">+15</td>' in page
        and '<td class="num">-5</td>' in page
    )
    assert f"较上日 Compared with: {PREVIOUS_DAY.isoformat()}" in page
    with env.wh.engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM consolidated WHERE unit_code = '130903001' AND period < :p"),
            {"p": PERIOD},
        )
    got = env.client.get(f"/api/runs/{PERIOD}/totals", headers=h).json()
    assert {r["unit_code"]: r["change"] for r in got}["130903001"] is None


def test_big_totals_read_with_thousands_separators_as_in_the_workbook(env: Env) -> None:
    """The workbook prints #,##0: the page's 1,234,567 and +1,234,477 must read the same
    (a trial saw 1234567 beside the printed 1,234,567); the JSON answer stays a number."""
    with env.wh.engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE consolidated SET value = 1234567 WHERE unit_code = '1309'"
                " AND period = :p AND indicator = 'persons_screened'"
            ),
            {"p": PERIOD},
        )
    h = env.as_("city")
    page = env.client.get(f"/runs/{PERIOD}/totals", headers=h).text
    assert '<span class="total" id="total-1309">1,234,567</span>' in page
    assert '<td class="num">+1,234,477</td>' in page  # the day before: 90
    got = env.client.get(f"/api/runs/{PERIOD}/totals", headers=h).json()
    assert got[0]["value"] == 1234567.0


def test_pages_link_the_bundled_stylesheet(env: Env) -> None:
    """One stylesheet from the app (CSP style-src 'self'), with a print style without forms;
    numbers in right-aligned cells."""
    h = env.as_("steward_a")
    page = env.client.get(f"/runs/{PERIOD}", headers=h)
    assert '<link rel="stylesheet" href="/static/review.css">' in page.text
    assert "style-src 'self'" in page.headers["content-security-policy"]
    css = env.client.get("/static/review.css", headers=h)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    print_rules = css.text[css.text.index("@media print") :]
    assert "form" in print_rules and "button" in print_rules and "display: none" in print_rules
    assert "td.num" in css.text and "http" not in css.text


def test_names_beside_codes_on_scopes_and_audit(env: Env) -> None:
    h = env.as_("steward_a")
    runs = env.client.get("/", headers=h).text
    assert "负责单位 Units: 运河区 (130903)" in runs
    row = env.wh.a_error
    env.client.post(
        f"/runs/{PERIOD}/reject",
        data={**_row_form(row), "justification": "重复报送"},
        headers={**h, "Accept": "application/json"},
    )
    audit = env.client.get(f"/runs/{PERIOD}/audit", headers=h).text
    assert f"{row.unit_name} ({row.unit_code})" in audit
    assert "原值 Old" in audit and "<th>old_value</th>" not in audit  # headers a clerk reads


def test_airflow_refusal_is_shown_not_swallowed(
    warehouse: Warehouse, airflow_token: Callable[[str], str]
) -> None:
    """The app takes any Airflow client; the in-memory one can refuse like the real API."""
    refused = InMemoryAirflow(refuse=AirflowError(403, "Airflow refused: no DAG permission"))
    app = create_app(warehouse.settings, engine=warehouse.engine, airflow=refused)
    client = TestClient(app)
    h = {"Authorization": f"Bearer {airflow_token('steward_a')}"}
    resp = client.post(f"/runs/{PERIOD}/rerun", data={"justification": "重算"}, headers=h)
    assert resp.status_code == 403 and "no DAG permission" in resp.text
    assert store.reruns_for(warehouse.engine, PERIOD).empty  # no run, no audit row
    assert "Airflow 拒绝" in resp.text
    assert [c["day"] for c in refused.calls] == [PERIOD]


# ---- cross-site request forgery (defect 2) ---------------------------------------------------

#: What a cross-site page can make a logged-in browser send (the cookie rides along).
FORGED_ORIGINS = {
    "null origin (no-referrer meta, sandboxed frame)": {"Origin": "null"},
    "neither origin nor referer": {},
    "foreign origin": {"Origin": "http://evil.example"},
    "foreign referer only": {"Referer": "http://evil.example/page.html"},
}


def _with_cookie(env: Env, user: str) -> None:
    env.client.cookies.set("_token", env.token(user))  # as the Airflow UI does


def _csrf_from_row_page(env: Env, row: Row) -> str:
    import re

    page = env.client.get(f"/runs/{PERIOD}/row", params=_row_form(row)).text
    tokens = set(re.findall(r'name="csrf_token" value="([0-9a-f]+)"', page))
    assert len(tokens) == 1, "every form carries the same per-session token"
    return tokens.pop()


@pytest.mark.parametrize("headers", FORGED_ORIGINS.values(), ids=FORGED_ORIGINS.keys())
@pytest.mark.parametrize("path", ["reject", "rerun", "keep"])
def test_cross_site_form_with_the_cookie_is_refused(
    env: Env, headers: dict[str, str], path: str
) -> None:
    """Even with the right token copied in: the origin is checked first."""
    _with_cookie(env, "steward_a")
    token = _csrf_from_row_page(env, env.wh.a_error)
    form = _row_form(env.wh.a_error, justification="x", csrf_token=token)
    resp = env.client.post(f"/runs/{PERIOD}/{path}", data=form, headers=headers)
    assert resp.status_code == 403, resp.text
    assert "跨站" in resp.text and "cross-site" in resp.text
    assert env.wh.actions().empty and not env.airflow.calls


@pytest.mark.parametrize("token", ["", "0" * 64, "stolen-from-another-session"])
def test_same_origin_post_without_the_sessions_token_is_refused(env: Env, token: str) -> None:
    _with_cookie(env, "steward_a")
    form = _row_form(env.wh.a_error, justification="x")
    if token == "stolen-from-another-session":
        other = env.client.cookies.get("_token")
        env.client.cookies.set("_token", env.token("steward_a"))  # a new session
        assert env.client.cookies.get("_token") != other
        token = _csrf_from_row_page(env, env.wh.a_error)
        env.client.cookies.set("_token", other)
    if token:
        form["csrf_token"] = token
    resp = env.client.post(
        f"/runs/{PERIOD}/reject", data=form, headers={"Origin": "http://testserver"}
    )
    assert resp.status_code == 403, resp.text
    assert env.wh.actions().empty


def test_same_origin_post_with_the_token_is_done(env: Env) -> None:
    _with_cookie(env, "steward_a")
    token = _csrf_from_row_page(env, env.wh.a_error)
    form = _row_form(env.wh.a_error, justification="请重报", csrf_token=token)
    resp = env.client.post(
        f"/runs/{PERIOD}/reject",
        data=form,
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    assert env.wh.actions()["action"].tolist() == ["reject"]
    referer_only = env.client.post(
        f"/runs/{PERIOD}/rerun",
        data={"csrf_token": token, "justification": "重算"},
        headers={"Referer": f"http://testserver/runs/{PERIOD}"},
    )
    assert referer_only.status_code == 200, referer_only.text


GET_ROUTES = [(m, p) for m, p in ALL_ROUTES if m == "GET"]


@pytest.mark.parametrize(("method", "path"), GET_ROUTES, ids=[p for _, p in GET_ROUTES])
def test_every_page_sends_the_security_headers(shared_env: Env, method: str, path: str) -> None:
    env = shared_env
    for headers in ({}, env.as_("city")):  # the 401 page as well as the page itself
        resp = _request(env, method, path, env.wh.a_error, headers)
        csp = resp.headers.get("content-security-policy", "")
        assert "frame-ancestors 'self'" in csp and "default-src" in csp, (path, resp.headers)
        assert "form-action 'self'" in csp or "form-action 'none'" in csp
        assert resp.headers.get("x-content-type-options") == "nosniff"
        assert resp.headers.get("x-frame-options") == "SAMEORIGIN"


# ---- audit gaps (defect 11) -------------------------------------------------------------------


@pytest.mark.parametrize("why", ["", "   "])
def test_correction_without_justification_is_refused(env: Env, why: str) -> None:
    wh = env.wh
    resp = env.client.post(
        f"/runs/{PERIOD}/correct",
        data=_row_form(wh.a_error, column="persons_screened", new_value="2500", justification=why),
        headers=env.as_("steward_a"),
        follow_redirects=False,
    )
    assert resp.status_code == 400, resp.text
    assert wh.actions().empty
    corrections = wh.settings.inbox_for(date.fromisoformat(PERIOD)) / "_corrections"
    assert not corrections.exists() or not any(corrections.iterdir())


def test_rerun_is_audited_with_who_and_why(env: Env) -> None:
    h = {**env.as_("steward_a"), "Accept": "application/json"}
    refused = env.client.post(f"/runs/{PERIOD}/rerun", data={"justification": " "}, headers=h)
    assert refused.status_code == 400 and not env.airflow.calls
    done = env.client.post(
        f"/runs/{PERIOD}/rerun",
        data={"justification": "更正后重算 totals after correction"},
        headers=h,
    )
    assert done.status_code == 200, done.text
    audit = env.client.get(f"/runs/{PERIOD}/audit", headers=env.as_("steward_a")).text
    assert "manual__review_test" in audit and "更正后重算 totals after correction" in audit
    assert "steward_a" in audit
    city = env.client.get(f"/runs/{PERIOD}/audit", headers=env.as_("city")).text
    assert "manual__review_test" in city  # the city sees re-runs of its counties
    other = env.client.get(f"/runs/{PERIOD}/audit", headers=env.as_("steward_b")).text
    assert "manual__review_test" not in other  # another county's steward does not


# ---- the page a steward works in ------------------------------------------------------------


def test_a_browser_without_a_session_is_sent_to_the_login_page(shared_env: Env) -> None:
    env = shared_env
    page = env.client.get(
        f"/runs/{PERIOD}/totals?indicator=persons_screened",
        headers={"Accept": "text/html,application/xhtml+xml"},
        follow_redirects=False,
    )
    assert page.status_code == 303
    location = page.headers["location"]
    assert "login" in location and "totals" in location  # and back here afterwards
    api = env.client.get("/api/runs", headers={"Accept": "application/json"})
    assert api.status_code == 401  # API clients still get 401
    post = env.client.post(f"/runs/{PERIOD}/rerun", headers={"Accept": "text/html"})
    assert post.status_code == 401


def test_accept_is_offered_only_for_value_rules(env: Env) -> None:
    import pandas as pd

    from huizong import frames

    from .conftest import _issue

    wh = env.wh
    known = _issue(wh.a_error, "persons_screened", "unit_known", "error")
    frame = pd.DataFrame([known], columns=frames.ISSUE_COLUMNS)
    frame["period"] = date.fromisoformat(PERIOD)
    frame.to_sql("quarantine", wh.engine, index=False, if_exists="append")
    page = env.client.get(
        f"/runs/{PERIOD}/row", params=_row_form(wh.a_error), headers=env.as_("steward_a")
    ).text
    assert page.count('class="accept"') == 1  # max:persons_screened only
    assert 'name="rule" value="unit_known"' not in page
    assert 'id="no-accept"' in page


def test_accept_is_not_offered_for_a_negative_stock(env: Env) -> None:
    """A negative count or stock (``min:``, below the floor of 0) must be corrected: the
    row page offers no Accept for it (a trial found one), and says why in both languages."""
    import pandas as pd

    from huizong import frames

    from .conftest import _issue

    wh = env.wh
    negative = _issue(wh.a_error, "masks_in_stock", "min:masks_in_stock", "error")
    negative["value"] = "-40"
    frame = pd.DataFrame([negative], columns=frames.ISSUE_COLUMNS)
    frame["period"] = date.fromisoformat(PERIOD)
    frame.to_sql("quarantine", wh.engine, index=False, if_exists="append")
    page = env.client.get(
        f"/runs/{PERIOD}/row", params=_row_form(wh.a_error), headers=env.as_("steward_a")
    ).text
    assert "min:masks_in_stock" in page  # the issue is listed …
    assert 'name="rule" value="min:masks_in_stock"' not in page  # … but not acceptable
    assert page.count('class="accept"') == 1  # max:persons_screened only
    note = page[page.index('id="no-accept"') :]
    assert "负数" in note and "negative" in note[: note.index("</p>")]
    refused = env.client.post(
        f"/runs/{PERIOD}/accept",
        data=_row_form(wh.a_error, rule="min:masks_in_stock", justification="核实"),
        headers=env.as_("steward_a"),
        follow_redirects=False,
    )
    assert refused.status_code == 400, refused.text
    assert wh.actions().empty


def test_a_row_held_back_by_its_earlier_report_can_still_be_accepted(env: Env) -> None:
    """A failed re-upload carries ``earlier_report_kept`` beside its own errors. That note
    is not a rule on a value: the page used to count it as one that cannot be accepted
    ("a negative … cannot be accepted") although the row's own error could be. Now the
    page says which report stays in use and offers Accept for the row's own error."""
    import pandas as pd

    from huizong import frames
    from huizong.validate.day import EARLIER_KEPT

    from .conftest import _issue

    wh = env.wh
    note = _issue(wh.a_error, "persons_screened", EARLIER_KEPT, "error")
    note["column"], note["value"] = None, "早报表.xlsx"
    frame = pd.DataFrame([note], columns=frames.ISSUE_COLUMNS)
    frame["period"] = date.fromisoformat(PERIOD)
    frame.to_sql("quarantine", wh.engine, index=False, if_exists="append")
    page = env.client.get(
        f"/runs/{PERIOD}/row", params=_row_form(wh.a_error), headers=env.as_("steward_a")
    ).text
    assert 'id="no-accept"' not in page
    assert page.count('class="accept"') == 1  # max:persons_screened, the row's own error
    assert f'name="rule" value="{EARLIER_KEPT}"' not in page
    kept = page[page.index('id="earlier-kept"') :]
    kept = kept[: kept.index("</p>")]
    assert "早报表.xlsx" in kept and "仍在使用" in kept and "stays in use" in kept


def test_rerun_page_follows_the_run_to_completion(
    warehouse: Warehouse, airflow_token: Callable[[str], str]
) -> None:
    fake = InMemoryAirflow()
    app = create_app(warehouse.settings, engine=warehouse.engine, airflow=fake)
    client = TestClient(app)
    h = {"Authorization": f"Bearer {airflow_token('steward_a')}"}
    started = client.post(
        f"/runs/{PERIOD}/rerun", data={"justification": "重算"}, headers=h, follow_redirects=False
    )
    assert started.status_code == 303
    progress = started.headers["location"]
    (run_id,) = fake.runs
    assert progress == f"/runs/{PERIOD}/reruns/{run_id}"
    going = client.get(progress, headers=h).text
    assert '<meta http-equiv="refresh"' in going and "排队中 queued" in going
    assert f'href="/dags/huizong_nightly/runs/{run_id}"' in going  # the run in Airflow
    assert 'id="rerun-done"' not in going
    fake.finish(run_id)
    done = client.get(progress, headers=h).text
    assert 'id="rerun-done"' in done and "refresh" not in done
    assert f'href="/runs/{PERIOD}/totals"' in done
    fake.finish(run_id, "failed")
    assert 'id="rerun-failed"' in client.get(progress, headers=h).text
    other = {"Authorization": f"Bearer {airflow_token('steward_b')}"}
    assert client.get(progress, headers=other).status_code == 404  # not B's re-run
    assert client.get(f"/runs/{PERIOD}/reruns/invented", headers=h).status_code == 404


def test_a_queued_rerun_says_which_run_it_waits_for(
    warehouse: Warehouse, airflow_token: Callable[[str], str]
) -> None:
    """A trial found a re-run "queued" for six minutes with no word why: the scheduled
    run of another day held the DAG's one slot. The page names that run: its day, that it
    is the scheduled run, its state and since when; once it is gone, the scheduler."""
    fake = InMemoryAirflow()
    app = create_app(warehouse.settings, engine=warehouse.engine, airflow=fake)
    client = TestClient(app)
    h = {"Authorization": f"Bearer {airflow_token('steward_a')}"}
    ahead = fake.start_scheduled("2026-12-01", "2026-12-01T18:00:05+00:00")
    started = client.post(
        f"/runs/{PERIOD}/rerun", data={"justification": "重算"}, headers=h, follow_redirects=False
    )
    progress = started.headers["location"]
    waiting = client.get(progress, headers=h).text
    section = waiting[waiting.index('id="rerun-waiting"') :]
    assert f'data-run-id="{ahead.run_id}"' in section
    assert "2026-12-01" in section and "定时运行 scheduled nightly run" in section
    assert "运行中 running" in section and "2026-12-02 02:00:05 北京时间" in section
    assert "一次只运行一个" in section and "one at a time" in section
    fake.finish(ahead.run_id, "failed")
    alone = client.get(progress, headers=h).text
    assert ahead.run_id not in alone and "等待调度器启动" in alone and "scheduler" in alone
    (mine,) = (r for r in fake.runs if r != ahead.run_id)
    fake.finish(mine)
    assert 'id="rerun-waiting"' not in client.get(progress, headers=h).text


def test_rules_are_shown_in_words_with_the_code_beside(shared_env: Env) -> None:
    env = shared_env
    label = next(i.zh for i in env.wh.catalogue.numeric if i.code == "persons_screened")
    page = env.client.get(f"/runs/{PERIOD}", headers=env.as_("steward_a")).text
    assert f"{label}超过最大值" in page and "above the maximum" in page
    assert "max:persons_screened" in page  # the code stays, small, beside it


# ---- a duplicate resolved with "keep this row" -----------------------------------------------


def test_duplicate_rows_side_by_side_and_keep_resolves_the_pair(env: Env) -> None:
    wh = env.wh
    twin = plant_duplicate(wh, wh.a_error, {"persons_screened": "12"})
    h = env.as_("steward_a")
    page = env.client.get(f"/runs/{PERIOD}", headers=h).text
    section = page[page.index('id="duplicates"') :]
    assert "重复上报 Duplicates" in page
    for row in (wh.a_error, twin):
        assert row.file_name in section
        assert f'name="file_id" value="{row.file_id}"' in section
    assert "250000" in section and ">12<" in section  # both rows' values, side by side
    assert "2026-11-26 18:00:00 北京时间" in section  # when each file was received (10:00 UTC)
    assert section.count(f'action="/runs/{PERIOD}/keep"') == 2
    assert section.count("保留此行 keep this row") == 2

    row_page = env.client.get(f"/runs/{PERIOD}/row", params=_row_form(twin), headers=h).text
    assert f'href="/runs/{PERIOD}#duplicates"' in row_page  # from the row to the pair

    form = _row_form(twin, justification="")
    assert env.client.post(f"/runs/{PERIOD}/keep", data=form, headers=h).status_code == 400
    form["justification"] = "电话核实：第二份是更正后的 the second file is the corrected one"
    other = env.client.post(f"/runs/{PERIOD}/keep", data=form, headers=env.as_("steward_b"))
    assert other.status_code == 403 and wh.actions().empty
    single = _row_form(wh.a_warning, justification="x")  # not a duplicate: nothing to keep
    assert env.client.post(f"/runs/{PERIOD}/keep", data=single, headers=h).status_code == 404
    done = env.client.post(f"/runs/{PERIOD}/keep", data=form, headers=h, follow_redirects=False)
    assert done.status_code == 303, done.text

    audit = wh.actions()
    assert audit[["action", "username", "unit_code", "rule"]].values.tolist() == [
        ["keep", "steward_a", wh.a_error.unit_code, "unique_unit_day"]
    ]
    assert twin.file_name in audit["new_value"].iloc[0]
    assert wh.a_error.file_name in audit["old_value"].iloc[0]
    assert "电话核实" in audit["justification"].iloc[0]
    waivers = store.waivers_for(wh.engine, PERIOD)
    assert waivers[["file_id", "rule", "username"]].values.tolist() == [
        [twin.file_id, "unique_unit_day", "steward_a"]
    ]
    day = env.client.get(f"/api/runs/{PERIOD}", headers=h).json()
    status = {
        r["file_id"]: r["status"] for r in day["quarantine"] if r["rule"] == "unique_unit_day"
    }
    assert status == {twin.file_id: "kept", wh.a_error.file_id: "superseded"}
    page = env.client.get(f"/runs/{PERIOD}", headers=h).text
    assert "已保留 kept" in page and "已取代 superseded" in page


# ---- Data Docs for a steward of part of the day ---------------------------------------------


def _plant_received(wh: Warehouse) -> None:
    """The day's RECEIVED run file: a failing row in each county (A 250000, B 300000) and
    a mistyped code in county B."""
    from huizong.validate.sample import received_frame

    rows = [
        {
            "file_id": wh.a_error.file_id,
            "unit_code": wh.a_error.unit_code,
            "persons_screened": 250000,
        },
        {
            "file_id": wh.b_error.file_id,
            "unit_code": wh.b_error.unit_code,
            "persons_screened": 300000,
        },
        {"file_id": wh.b_error.file_id, "unit_code": "130902001077", "persons_screened": 3},
    ]
    frame = received_frame(wh.catalogue, [{**r, "period": PERIOD} for r in rows])
    run = wh.settings.run_dir(date.fromisoformat(PERIOD))
    run.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(run / "received.parquet", index=False)


def _site_text(env: Env, headers: dict[str, str]) -> str:
    """Every page of the Data Docs site the steward is served, fetched through the app."""
    import re

    seen, todo, text = set(), ["index.html"], []
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        resp = env.client.get(f"/runs/{PERIOD}/data-docs/{path}", headers=headers)
        assert resp.status_code == 200, (path, resp.text[:500])
        text.append(resp.text)
        base = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
        for link in re.findall(r"(?:href=\"|_link_path': ')([^\"'#?]+\.html)", resp.text):
            parts = []
            for part in (base + link).split("/"):
                if part == "..":
                    parts.pop()
                elif part not in ("", "."):
                    parts.append(part)
            todo.append("/".join(parts))
    assert len(seen) >= 3, seen  # index, the suite, the validation
    return "\n".join(text)


def test_a_county_steward_opens_data_docs_of_only_their_county(env: Env) -> None:
    wh = env.wh
    _plant_received(wh)
    h = env.as_("steward_a")
    day = env.client.get(f"/runs/{PERIOD}", headers=h).text
    assert 'id="data-docs-link"' in day and "仅本辖区" in day
    text = _site_text(env, h)
    assert "250000" in text  # county A's failing value is shown
    for trace in ("300000", "130902", wh.b_error.unit_name, wh.b_error.file_id):
        assert trace not in text, trace
    built = list((wh.settings.home / "data_docs_scoped" / PERIOD).glob("*/*/index.html"))
    assert len(built) == 1
    again = env.client.get(f"/runs/{PERIOD}/data-docs/", headers=h)
    assert again.status_code == 200  # served from the cache, not rebuilt
    assert list((wh.settings.home / "data_docs_scoped" / PERIOD).glob("*/*/index.html")) == built
    city = env.client.get(f"/runs/{PERIOD}/data-docs/", headers=env.as_("city")).text
    assert "数据文档" in city  # the whole-day steward still gets the night's site
    nobody = env.client.get(f"/runs/{PERIOD}/data-docs/", headers=env.as_("nobody"))
    assert nobody.status_code == 403
    outside = env.client.get(f"/runs/{PERIOD}/data-docs/..%2F..%2F..%2Fwarehouse.sqlite", headers=h)
    assert outside.status_code == 404


def test_data_docs_of_a_county_are_rebuilt_after_a_rerun(env: Env) -> None:
    wh = env.wh
    _plant_received(wh)
    h = env.as_("steward_a")
    assert env.client.get(f"/runs/{PERIOD}/data-docs/", headers=h).status_code == 200
    first = list((wh.settings.home / "data_docs_scoped" / PERIOD).glob("*/*"))
    source = wh.settings.run_dir(date.fromisoformat(PERIOD)) / "received.parquet"
    import pandas as pd

    rerun = pd.read_parquet(source)
    rerun.loc[rerun.index[0], "row_number"] = int(rerun["row_number"].max()) + 1
    rerun.to_parquet(source)  # the re-run wrote a new RECEIVED (different rows)
    assert env.client.get(f"/runs/{PERIOD}/data-docs/", headers=h).status_code == 200
    second = list((wh.settings.home / "data_docs_scoped" / PERIOD).glob("*/*"))
    assert len(first) == len(second) == 1 and first != second


# ---- change report (更正说明) ----------------------------------------------------------------


def test_change_report_lists_own_units_grouped_by_county(shared_env: Env) -> None:
    """The latest version by default: old → new, difference and cause of A's units only;
    the city (whose cause names county B's village) is not A's to see."""
    env = shared_env
    got = env.client.get(
        f"/runs/{PERIOD}/changes",
        headers={**env.as_("steward_a"), "Accept": "application/json"},
    )
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["version"] == 2 and body["versions"] == [1, 2]
    rows = [
        (r["county_code"], r["unit_code"], r["indicator"], r["old_value"], r["new_value"])
        for r in body["changes"]
    ]
    assert rows == [
        ("130903", "130903", "persons_screened", 55.0, 60.0),
        ("130903", "130903001", "persons_screened", 55.0, 60.0),
    ]
    assert {r["difference"] for r in body["changes"]} == {5.0}
    assert all("大化社区居民委员会" in r["cause"] for r in body["changes"])
    assert body["unchanged_values"] == 1  # households_visited: only reporting_units moved
    page = env.client.get(f"/runs/{PERIOD}/changes", headers=env.as_("steward_a")).text
    label = env.wh.catalogue.indicator("persons_screened").zh
    for text in (label, "运河区 130903", "南环中路街道", "+5", "审核更正", "第1版 v1"):
        assert text in page, text
    assert "新华区" not in page and "1309</td>" not in page
    city = env.client.get(f"/runs/{PERIOD}/changes", headers=env.as_("city")).text
    assert city.index('id="county-1309"') < city.index('id="county-130902"')
    assert city.index('id="county-130902"') < city.index('id="county-130903"')
    first = env.client.get(
        f"/runs/{PERIOD}/changes?version=1",
        headers={**env.as_("city"), "Accept": "application/json"},
    ).json()
    assert first["version"] == 1 and first["changes"] == []
    missing = env.client.get(f"/runs/{PERIOD}/changes?version=9", headers=env.as_("city"))
    assert missing.status_code == 404


def test_change_report_counts_indicator_values_only(shared_env: Env) -> None:
    """A cell whose only change is reporting_units (a village more reported the same
    value) is neither listed nor counted as a changed value; the page says what it counts."""
    env = shared_env
    page = env.client.get(f"/runs/{PERIOD}/changes", headers=env.as_("steward_a")).text
    summary = page[page.index('id="summary"') :]
    assert "指标数值变化：2 项" in summary and "2 values, 2 units" in summary
    note = page[page.index('id="not-counted"') :]
    assert "另有 1 项" in note[: note.index("</p>")]
    label = env.wh.catalogue.indicator("households_visited").zh
    assert label not in page[: page.index('id="completeness"')]


def test_change_report_lists_completeness_changes_in_scope(shared_env: Env) -> None:
    """报告完整性: each changed field (reported …) of each unit, old → new and cause,
    scoped like the values: the city sees three units, county A's steward only A's."""
    env = shared_env
    city = env.client.get(
        f"/runs/{PERIOD}/changes", headers={**env.as_("city"), "Accept": "application/json"}
    ).json()
    got = [(r["unit_code"], r["field"], r["old"], r["new"]) for r in city["completeness"]]
    assert got == [
        ("1309", "reported_units", 3.0, 4.0),
        ("130902", "reported_units", 1.0, 2.0),
        ("130903", "reported_units", 1.0, 2.0),
    ]
    page = env.client.get(f"/runs/{PERIOD}/changes", headers=env.as_("steward_a")).text
    section = page[page.index('id="completeness"') :]
    assert "1 项 fields，1 个单位 units" in section
    assert "已报 reported" in section and "迟报甲社区居民委员会" in section
    assert "<td>运河区</td>" in section and "新华区" not in section
    assert section.index(">1<") < section.index(">2<")  # old → new


def test_a_reader_sees_the_change_report_of_their_units(shared_env: Env) -> None:
    """The downloads page links an agency here: their units' changes, no steward links."""
    env = shared_env
    store.assign_scope(env.wh.engine, "reader_a", [COUNTY_A], "reader")
    page = env.client.get(f"/runs/{PERIOD}/changes", headers=env.as_("reader_a"))
    assert page.status_code == 200, page.text
    assert "运河区 130903" in page.text and "新华区" not in page.text
    assert f"/runs/{PERIOD}/versions" not in page.text and 'href="/downloads/"' in page.text


def test_versions_and_day_pages_link_the_change_report(shared_env: Env) -> None:
    env = shared_env
    versions = env.client.get(f"/runs/{PERIOD}/versions", headers=env.as_("steward_a")).text
    assert f"/runs/{PERIOD}/changes?version=2" in versions
    assert f"/runs/{PERIOD}/changes?version=1" in versions
    day = env.client.get(f"/runs/{PERIOD}", headers=env.as_("steward_a")).text
    nav = day[day.index('id="day-nav"') :]
    assert f'href="/runs/{PERIOD}/changes">更正说明 Changes</a>' in nav[: nav.index("</p>")]
