"""The deadline's missing list on the steward's day page: kept in the warehouse by the
deadline task (SQLite and PostgreSQL), shown scoped, and equal per township to the
registry's reporters minus the units with a row received by the deadline."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from html import unescape
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi.testclient import TestClient

from huizong import warehouse
from huizong.ingest import receipts
from huizong.intake.arrivals import Arrival, deposit
from huizong.intake.config import SourcesConfig
from huizong.intake.deadlines import chase_day, expected
from huizong.registry import registry_for
from huizong.review import store
from huizong.review.airflow_api import InMemoryAirflow
from huizong.review.app import create_app
from huizong.settings import Settings

DAY = date(2026, 11, 26)
TZ = ZoneInfo("Asia/Shanghai")
HEADER = "单位代码,单位名称,日期,排查登记人数,入户走访户数,新增返乡人员"
COUNTY, OTHER_COUNTY = "130902", "130903"  # 新华区, 运河区


def _batch(units: list[tuple[str, str]]) -> bytes:
    rows = [f"{code},{name},{DAY.isoformat()},1,1,1" for code, name in units]
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def _listed(page: str) -> dict[str, set[str]]:
    """Township code → unit codes under that township's heading in the village block."""
    block = page.split('id="deadline-village"', 1)[1].split("<h3", 1)[0]
    out: dict[str, set[str]] = {}
    for town, body in re.findall(
        r'<h4 class="township" data-level="village" data-township="(\d*)">.*?</h4>'
        r"(<table>.*?</table>)",
        block,
        re.S,
    ):
        out[town] = set(re.findall(r"<tr><td>(\d{12})</td>", body))
    return out


def test_the_day_page_lists_registry_minus_reporters_per_township(
    tmp_path, warehouse_url: str, airflow_token: Callable[[str], str]
) -> None:
    settings = Settings(home=tmp_path / "home", warehouse_url=warehouse_url)
    registry = registry_for(settings)
    units = registry.units
    villages = units[(units["level"] == 5) & units["code"].str.startswith(COUNTY)]
    towns = sorted(villages["township_code"].unique())
    # the first township: all but two on time, one of those late; the second: nobody;
    # the others: everyone on time; another county: one village only
    first = villages[villages["township_code"] == towns[0]]
    pairs = lambda f: list(zip(f["code"], f["name"], strict=True))  # noqa: E731
    on_time = pairs(first)[:-2] + pairs(villages[~villages["township_code"].isin(towns[:2])])
    late = pairs(first)[-1:]
    other = units[(units["level"] == 5) & units["code"].str.startswith(OTHER_COUNTY)]
    on_time += pairs(other)[:1]
    at = lambda h: datetime(2026, 11, 26, h, 0, tzinfo=TZ)  # noqa: E731
    deposit(Arrival(_batch(on_time), "批量.csv", at(17), receipts.MAIL), settings)
    deposit(Arrival(_batch(late), "迟报.csv", at(19), receipts.MAIL), settings)

    summary = chase_day(DAY, "village", settings, SourcesConfig(), None)

    reporters = {code for code, _ in on_time}
    want = set(expected(registry, "village")["code"]) - reporters
    checks, kept = warehouse.deadline_lists(settings, DAY)
    assert set(kept["unit_code"]) == want and summary["missing"] == len(want)
    [check] = checks.to_dict("records")
    assert check["missing_units"] == len(want)
    assert check["expected_units"] == len(expected(registry, "village"))
    assert check["deadline"] == datetime(2026, 11, 26, 18, 0, tzinfo=TZ)

    engine = sa.create_engine(settings.warehouse)
    store.ensure_schema(engine)
    store.assign_scope(engine, "county_steward", [COUNTY])
    app = create_app(settings, engine=engine, airflow=InMemoryAirflow())
    try:
        with TestClient(app) as client:
            token = {"Authorization": f"Bearer {airflow_token('county_steward')}"}
            page = client.get(f"/runs/{DAY.isoformat()}", headers=token)
            assert page.status_code == 200, page.text
            listed = _listed(unescape(page.text))
            api = client.get(f"/api/runs/{DAY.isoformat()}", headers=token).json()
    finally:
        engine.dispose()
    expected_by_town = {
        t: set(villages.loc[villages["township_code"] == t, "code"]) - reporters for t in towns
    }
    assert listed == {t: codes for t, codes in expected_by_town.items() if codes}
    assert len(listed[towns[0]]) == 2 and listed[towns[1]] == set(expected_by_town[towns[1]])
    # scoped: the other county's missing villages are neither on the page nor in the API
    assert not any(c.startswith(OTHER_COUNTY) for codes in listed.values() for c in codes)
    assert {m["unit_code"] for m in api["deadline_missing"]} == set().union(*listed.values())


def test_a_second_check_of_the_same_deadline_replaces_the_first(tmp_path) -> None:
    settings = Settings(home=tmp_path / "home")
    chase_day(DAY, "village", settings, SourcesConfig(), None)
    first = warehouse.deadline_lists(settings, DAY)[1]
    registry = registry_for(settings)
    village = registry.units[registry.units["level"] == 5].iloc[0]
    at = datetime(2026, 11, 26, 9, tzinfo=TZ)
    deposit(Arrival(_batch([(village["code"], village["name"])]), "a.csv", at, "mail"), settings)
    chase_day(DAY, "village", settings, SourcesConfig(), None)
    checks, second = warehouse.deadline_lists(settings, DAY)
    assert len(checks) == 1 and len(second) == len(first) - 1
    assert village["code"] not in set(second["unit_code"])


def test_before_any_deadline_the_page_says_so(tmp_path) -> None:
    checks, missing = warehouse.deadline_lists(Settings(home=tmp_path / "none"), DAY)
    assert checks.empty and missing.empty
    assert not (tmp_path / "none" / "warehouse.sqlite").exists()  # a reader never creates it


def test_a_day_not_yet_published_does_not_say_everyone_reported(
    tmp_path, airflow_token: Callable[[str], str]
) -> None:
    settings = Settings(home=tmp_path / "home")
    chase_day(DAY, "village", settings, SourcesConfig(), None)  # the deadline, no night yet
    engine = sa.create_engine(settings.warehouse)
    store.ensure_schema(engine)
    store.assign_scope(engine, "county_steward", [COUNTY])
    try:
        with TestClient(create_app(settings, engine=engine, airflow=InMemoryAirflow())) as client:
            token = {"Authorization": f"Bearer {airflow_token('county_steward')}"}
            text = client.get(f"/runs/{DAY.isoformat()}", headers=token).text
    finally:
        engine.dispose()
    assert "the day is not published yet" in text and "everyone has reported" not in text
    assert 'id="deadline-village"' in text  # while the deadline's list is there already
