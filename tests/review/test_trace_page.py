"""The lineage page on a real demo day: each total on the totals page links to its trace,
which re-adds to the published value (day and week), and another county's unit is 403."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from huizong.demo import generate_demo_day
from huizong.pipeline import run_day
from huizong.publish.warehouse import read_table
from huizong.review import store
from huizong.review.airflow_api import InMemoryAirflow
from huizong.review.app import create_app
from huizong.settings import Settings
from huizong.warehouse import engine as open_engine

pytestmark = pytest.mark.e2e

DAY = date(2020, 1, 28)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("trace-page")
    settings = Settings(home=home, warehouse_url=f"sqlite:///{home / 'warehouse.sqlite'}")
    generate_demo_day(DAY, settings.inbox_for(DAY))
    run_day(DAY, settings)
    return settings


@pytest.fixture(scope="module")
def client(demo: Settings) -> Iterator[TestClient]:
    with open_engine(demo.warehouse) as eng:
        store.ensure_schema(eng)
        store.assign_scope(eng, "steward_a", [_counties(demo)[0]])
    with TestClient(create_app(demo, airflow=InMemoryAirflow())) as c:
        yield c


def _counties(demo: Settings) -> list[str]:
    cons = read_table(demo.warehouse, "consolidated", DAY)
    return sorted(set(cons.loc[(cons["level"] == 3) & (cons["kind"] == "county"), "unit_code"]))


def test_totals_link_each_total_to_a_trace_that_re_adds(
    demo: Settings, client: TestClient, airflow_token: Callable[[str], str]
) -> None:
    h = {"Authorization": f"Bearer {airflow_token('steward_a')}"}
    county = _counties(demo)[0]
    cons = read_table(demo.warehouse, "consolidated", DAY)
    mine = cons[
        (cons["indicator"] == "persons_screened")
        & cons["unit_code"].str.startswith(county)
        & cons["level"].isin([3, 4])
        & (cons["kind"] != "department")  # the totals page lists areas, not departments
    ]
    totals = client.get(f"/runs/{DAY}/totals?indicator=persons_screened", headers=h).text
    for unit in mine["unit_code"]:
        assert f'href="/trace/{unit}/persons_screened/{DAY}"' in totals, unit
    township = sorted(mine.loc[mine["level"] == 4, "unit_code"])[0]
    page = client.get(f"/trace/{township}/persons_screened/{DAY}", headers=h)
    assert page.status_code == 200, page.text
    assert '<p id="re-adds" class="ok">' in page.text and "一致 re-adds" in page.text
    assert "来源文件 Files and rows" in page.text and ".xlsx" in page.text
    assert "<td>村社区 village</td>" in page.text and "<td>village</td>" not in page.text
    got = client.get(
        f"/trace/{township}/persons_screened/{DAY}", headers={**h, "Accept": "application/json"}
    ).json()
    published = float(mine.set_index("unit_code").loc[township, "value"])
    assert got["re_adds"] is True and got["published"] == published
    given = [r["value"] for r in got["contributors"] if r["status"] == "reported"]
    assert sum(given) == published  # the page's own rows add up to the published total
    assert {r["unit_code"] for r in got["files"]} <= {r["unit_code"] for r in got["contributors"]}


def test_trace_of_a_week_and_the_errors(
    demo: Settings, client: TestClient, airflow_token: Callable[[str], str]
) -> None:
    h = {"Authorization": f"Bearer {airflow_token('steward_a')}", "Accept": "application/json"}
    first, other = _counties(demo)[:2]
    week = client.get(f"/trace/{first}/persons_screened/2020-W05", headers=h)
    assert week.status_code == 200, week.text
    assert week.json()["re_adds"] is True and week.json()["period"] == "2020-W05"
    assert client.get(f"/trace/{other}/persons_screened/{DAY}", headers=h).status_code == 403
    assert client.get(f"/trace/{first}/no_such/{DAY}", headers=h).status_code == 400
    assert client.get(f"/trace/{first}/persons_screened/2020-13-99", headers=h).status_code == 400
    assert client.get(f"/trace/{first}/persons_screened/2020-02-20", headers=h).status_code == 404
    assert client.get(f"/trace/{first}/persons_screened/{DAY}").status_code == 401
