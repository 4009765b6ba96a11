"""Downloads know versions (issue 9): every file served is logged per user with the
version of each day it was built from; after a correction the page says 有新版本 第2版
（您上次下载第1版） with a link to the change page, and the workbook that user downloads
next lists in 更正说明 exactly the changes since the version they had — none once they
have the latest; a user who never downloaded is told nothing."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date
from urllib.parse import quote

import openpyxl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from helpers.corrections import correct_planted_value
from huizong.catalogue import load_catalogue
from huizong.demo import generate_demo_day
from huizong.periods import parse_period
from huizong.pipeline import run_day
from huizong.publish.warehouse import read_changes
from huizong.publish.workbook import CORRECTIONS_SHEET
from huizong.review import downloads, store
from huizong.review.app import create_app
from huizong.review.deps import Backend
from huizong.settings import Settings

pytestmark = pytest.mark.e2e

DAY = date(2020, 1, 28)
CITY = "1309"
LABELS = {i.code: i.zh for i in load_catalogue().indicators}


@pytest.fixture
def site(tmp_path) -> Iterator[tuple[Settings, TestClient]]:
    settings = Settings(
        home=tmp_path / "var",
        inbox_root=tmp_path / "inbox",
        warehouse_url=f"sqlite:///{tmp_path / 'wh.sqlite'}",
    )
    generate_demo_day(DAY, settings.inbox_for(DAY))
    run_day(DAY, settings, trigger="nightly")
    app = create_app(settings, airflow_api_url="http://127.0.0.1:9")  # downloads never call it
    with TestClient(app) as client:
        yield settings, client


def _log(settings: Settings, user: str) -> list[tuple[str, str, str, str, int | None]]:
    engine = sa.create_engine(settings.warehouse)
    try:
        frame = store.read_frame(engine, "select_downloads_user", {"username": user})
    finally:
        engine.dispose()
    rows = zip(
        frame["unit_code"],
        frame["period_label"],
        frame["fmt"],
        frame["day"],
        frame["version"],
        strict=True,
    )
    return [(u, p, f, str(d)[:10], None if v is None else int(v)) for u, p, f, d, v in rows]


def _corrections(content: bytes) -> list[tuple[object, ...]] | None:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    if CORRECTIONS_SHEET not in book.sheetnames:
        return None
    rows = list(book[CORRECTIONS_SHEET].iter_rows(values_only=True))
    return [r for r in rows[1:] if any(c is not None for c in r)]


def _section(page: str, unit: str) -> str:
    start = page.index(f'id="unit-{unit}"')
    end = page.find('<details class="below"', start)
    return page[start : end if end > 0 else len(page)]


def test_a_newer_version_is_announced_and_its_workbook_lists_the_changes(
    site: tuple[Settings, TestClient], airflow_token: Callable[[str], str]
) -> None:
    settings, client = site
    engine = Backend(settings, None).engine
    warnings_county = _county_of_planted_value(settings)
    store.assign_scope(engine, "agency", [warnings_county], "reader")
    store.assign_scope(engine, "late_agency", [warnings_county], "reader")
    h = {"Authorization": f"Bearer {airflow_token('agency')}"}
    later = {"Authorization": f"Bearer {airflow_token('late_agency')}"}
    unit = warnings_county

    first = client.get(f"/downloads/{unit}/{DAY}/xlsx", headers=h)
    assert first.status_code == 200, first.text
    assert _corrections(first.content) is None  # one version: nothing to explain
    week = client.get(f"/downloads/{unit}/2020-W05/txt", headers=h)
    assert week.status_code == 200
    assert _log(settings, "agency") == [
        (unit, DAY.isoformat(), "xlsx", DAY.isoformat(), 1),
        (unit, "2020-W05", "txt", DAY.isoformat(), 1),  # the week's days so far: the 28th
    ]
    assert "有新版本" not in client.get("/downloads/", headers=h).text

    issue = correct_planted_value(settings, DAY, within=unit)
    assert run_day(DAY, settings, trigger="correction")["publish"]["version"] == 2

    page = client.get("/downloads/", headers=h).text
    mine = _section(page, unit)
    notice = "有新版本 第2版（您上次下载第1版） / newer version 2 (you last downloaded 1)"
    assert notice in mine and f'href="/runs/{DAY}/changes?version=2"' in mine
    assert mine.count("有新版本 第2版（您上次下载第1版）") == 2  # the day and the week
    assert f"{DAY} 有新版本" in mine and f"{DAY} newer version 2" in mine  # the week's day
    assert mine.index(notice) < mine.index("2020-W05")  # on the day's row
    assert "第2版 v2" in mine
    never = client.get("/downloads/", headers=later).text
    assert "有新版本" not in never  # never downloaded: no earlier version to compare

    changes_page = client.get(f"/runs/{DAY}/changes?version=2", headers=h)
    assert changes_page.status_code == 200  # the link works for a reader
    assert LABELS[str(issue["column"])] in changes_page.text

    second = client.get(f"/downloads/{unit}/{DAY}/xlsx", headers=h)
    rows = _corrections(second.content)
    assert rows is not None
    changes = read_changes(settings.warehouse, DAY, 2)
    expected = {
        (r.unit_code, LABELS[r.indicator], r.old_value, r.new_value)
        for r in changes[changes["unit_code"].str.startswith(unit)].itertuples()
    }
    assert {(r[0], r[2], r[3], r[4]) for r in rows} == expected and expected
    assert len(rows) == len(expected)
    assert _log(settings, "agency")[-1] == (unit, DAY.isoformat(), "xlsx", DAY.isoformat(), 2)

    page = client.get("/downloads/", headers=h).text
    day_notice = f'data-day="{DAY}" data-version="2" data-downloaded="1"'
    assert _section(page, unit).count(day_notice) == 1  # the week still has version 1
    again = client.get(f"/downloads/{unit}/{DAY}/xlsx", headers=h)
    assert _corrections(again.content) is None  # since 2 = the latest: nothing to explain
    other = client.get(f"/downloads/{unit}/{DAY}/xlsx", headers=later)
    assert _corrections(other.content) == rows  # never downloaded: since version 1
    assert quote(f"{DAY}", safe="") in other.headers["content-disposition"]


def _county_of_planted_value(settings: Settings) -> str:
    """The county of the village :func:`correct_planted_value` will correct."""
    from huizong.review import queries

    engine = sa.create_engine(settings.warehouse)
    try:
        store.ensure_schema(engine)
        found = queries.issues(engine, DAY, [CITY], "warning")
    finally:
        engine.dispose()
    village = found[
        found["rule"].str.startswith("warn_above:")
        & found["unit_code"].astype("str").str.fullmatch(r"\d{12}")
    ].iloc[0]
    return str(village["unit_code"])[:6]


def test_since_version_and_newer_versions_from_the_log() -> None:
    """The workbook counts from the version last downloaded of that day; a week, 旬 or
    month lists its days' versions instead (1); a day not downloaded is no notice."""
    day = parse_period("2020-01-28")
    week = parse_period("2020-W05")
    seen = {("2020-01-28", "2020-01-28"): 2, ("2020-W05", "2020-01-27"): 1}
    assert downloads.since_version(seen, day) == 2
    assert downloads.since_version({}, day) == 1
    assert downloads.since_version(seen, week) == 1
    current = {"2020-01-27": 3, "2020-01-28": 1}
    newer = downloads.newer_versions(current, seen, "2020-W05")
    assert [(n.day, n.version, n.downloaded) for n in newer] == [("2020-01-27", 3, 1)]
    assert downloads.newer_versions({"2020-01-28": 2}, seen, "2020-01-28") == []
