"""Browser test of 汇总下载 as an agency uses it: a county reader (``--role reader``) logs
in to a real Airflow api-server, opens 汇总下载 from Airflow's menu, downloads its day's
workbook and 情况汇报 and its week's workbook — the names the browser suggests are the
Chinese ones, the files open, and a number in each equals the warehouse — unfolds its
townships, and from the same session finds another county neither listed nor reachable
by URL, and no steward page. Headless Debian Chromium at 1366×768; screenshots (screen
and print) in ``$HUIZONG_TEST_ARTEFACTS`` (default ``test-artifacts/``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
import sqlalchemy as sa

from huizong.publish.unit_report import figure_text
from huizong.review import store
from huizong.settings import Settings

from .conftest import (
    ARTEFACTS,
    ApiServer,
    airflow_api_server,
    login,
)

DAY = date(2020, 1, 28)
COUNTY, COUNTY_NAME = "130921", "沧县"
OTHER, OTHER_NAME = "130922", "青县"
READER, PASSWORD = "county_reader", "county-reader-pass"
INDICATOR = "persons_screened"  # 排查登记人数（人）

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


@dataclass
class Site:
    server: ApiServer
    settings: Settings
    engine: sa.Engine

    @property
    def app(self) -> str:
        return f"{self.server.base}/huizong-review"

    def value(self, table: str, unit: str, **key: str) -> float:
        """The published value of INDICATOR for ``unit`` (day or period key)."""
        where = " AND ".join(f"{k} = :{k}" for k in key)
        sql = f"SELECT value FROM {table} WHERE unit_code = :u AND indicator = :i AND {where}"
        with self.engine.connect() as conn:
            return float(conn.execute(sa.text(sql), {"u": unit, "i": INDICATOR, **key}).scalar())


@pytest.fixture(scope="module")
def site(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo day as last night published it, a county reader, and Airflow serving it
    (after ``browser``: without Chromium nothing is started)."""
    from huizong.demo import generate_demo_day
    from huizong.pipeline import run_day

    tmp = tmp_path_factory.mktemp("browser_downloads")
    settings = Settings(home=tmp / "var", inbox_root=tmp / "inbox")
    generate_demo_day(DAY, settings.inbox_for(DAY))
    run_day(DAY, settings)
    engine = sa.create_engine(settings.warehouse)
    store.ensure_schema(engine)
    store.assign_scope(engine, READER, [COUNTY], "reader")
    try:
        for server in airflow_api_server(tmp, settings, {READER: PASSWORD}):
            yield Site(server, settings, engine)
    finally:
        engine.dispose()


def _cell_of(path: Path, unit: str, code: str) -> object:
    """The value in ``unit``'s row under the (hidden) indicator-code row's ``code``."""
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        codes = next((r for r in rows if code in r), None)
        mine = next((r for r in rows if r and r[0] == unit), None)
        if codes is not None and mine is not None:
            return mine[codes.index(code)]
    raise AssertionError(f"{unit} / {code} not found in {path.name}")


def test_county_reader_downloads_its_reports_and_nothing_else(
    browser: Any, site: Site, tmp_path: Path
) -> None:
    import httpx

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    assert httpx.get(f"{site.app}/downloads/", timeout=60).status_code == 401  # no user, no page
    day_value = site.value("consolidated", COUNTY, period=DAY.isoformat())
    week_value = site.value(
        "period_consolidated", COUNTY, period_type="week", period_start="2020-01-27"
    )
    page = login(
        browser, site.server.base, READER, PASSWORD, timeout_ms=60_000, accept_downloads=True
    )

    # 汇总下载 from Airflow's own menu: the page inside the Airflow UI
    page.goto(f"{site.server.base}/plugin/huizong-downloads")
    frame = page.frame_locator("iframe")
    frame.locator(f"#unit-{COUNTY}").wait_for()
    page.screenshot(path=str(ARTEFACTS / "downloads-in-airflow.png"))

    # the page itself, as the frame shows it
    page.goto(f"{site.app}/downloads/")
    content = page.content()
    assert COUNTY_NAME in content and f"({COUNTY})" in content
    assert OTHER not in content and OTHER_NAME not in content
    assert "汇总审核" not in content  # a reader has no review pages to go to
    page.screenshot(path=str(ARTEFACTS / "downloads-page.png"), full_page=True)

    got = {}
    wanted = (("2020-01-28", "xlsx"), ("2020-01-28", "docx"), ("2020-W05", "xlsx"))
    for period, fmt in wanted:
        link = f'a[data-unit="{COUNTY}"][data-period="{period}"][data-fmt="{fmt}"]'
        with page.expect_download() as info:
            page.click(link)
        download = info.value
        target = tmp_path / f"{period}.{fmt}"
        download.save_as(target)
        got[(period, fmt)] = (download.suggested_filename, target)

    name, xlsx = got[("2020-01-28", "xlsx")]
    assert name == f"{COUNTY_NAME}2020-01-28汇总表.xlsx"
    assert _cell_of(xlsx, COUNTY, INDICATOR) == day_value
    name, report = got[("2020-01-28", "docx")]
    assert name == f"{COUNTY_NAME}2020-01-28情况汇报.docx"
    text = "\n".join(par.text for par in docx.Document(str(report)).paragraphs)
    assert text.startswith(f"{COUNTY_NAME}疫情防控工作情况汇报")
    assert f"排查登记人数{figure_text(day_value, 'reported', '人')}" in text
    name, week = got[("2020-W05", "xlsx")]
    assert name == f"{COUNTY_NAME}2020-W05汇总表.xlsx"
    assert _cell_of(week, COUNTY, INDICATOR) == week_value

    # its townships, collapsed under the county until unfolded
    township = page.locator(f"#below-{COUNTY} details.child").first
    assert not township.is_visible()
    page.click(f"#below-{COUNTY} > summary")
    township.locator("summary").click()
    code = township.get_attribute("id").removeprefix("child-")
    with page.expect_download() as info:
        township.locator('a[data-period="2020-01-28"][data-fmt="xlsx"]').click()
    assert info.value.suggested_filename.endswith("2020-01-28汇总表.xlsx")
    township_book = tmp_path / "township.xlsx"
    info.value.save_as(township_book)
    assert _cell_of(township_book, code, INDICATOR) == site.value(
        "consolidated", code, period=DAY.isoformat()
    )
    page.screenshot(path=str(ARTEFACTS / "downloads-townships.png"), full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=str(ARTEFACTS / "downloads-print.png"), full_page=True)
    page.emulate_media(media="screen")

    # another county, from the same session: not reachable by URL either
    for url in (
        f"{site.app}/downloads/{OTHER}/2020-01-28/xlsx",
        f"{site.app}/downloads/{OTHER}/2020-W05/docx",
        f"{site.app}/downloads/{OTHER}001/2020-01-28/xlsx",
        f"{site.app}/downloads/{OTHER}/",
    ):
        response = page.request.get(url)
        assert response.status == 403, (url, response.status)
    refused = page.goto(f"{site.app}/downloads/{OTHER}/")
    assert refused is not None and refused.status == 403
    assert "无权限" in page.content()
    page.screenshot(path=str(ARTEFACTS / "downloads-other-county-403.png"))
    steward_page = page.goto(f"{site.app}/")
    assert steward_page is not None and steward_page.status == 403
    page.screenshot(path=str(ARTEFACTS / "downloads-reader-not-steward.png"))
    page.click("#downloads-link")
    page.wait_for_selector(f"#unit-{COUNTY}")
    for shot in ("downloads-page", "downloads-townships", "downloads-print"):
        assert (ARTEFACTS / f"{shot}.png").stat().st_size > 0
