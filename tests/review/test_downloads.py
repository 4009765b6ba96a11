"""汇总下载: a county reader downloads the demo day's workbook and 情况汇报, and its
week's, 旬's and month's; its townships' too; another county's are neither listed nor
reachable; the workbook equals ``huizong report``'s; a reader has no steward page, a
steward keeps the downloads of their units."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote

import docx
import openpyxl
import pytest
from fastapi.testclient import TestClient

from huizong.cli import main
from huizong.demo import generate_demo_day
from huizong.pipeline import run_day
from huizong.review import downloads, store
from huizong.review.app import create_app
from huizong.review.deps import Backend
from huizong.settings import Settings

DAY = date(2020, 1, 28)
COUNTY = "130921"  # 沧县
OTHER = "130922"  # 青县


def test_content_disposition_has_ascii_fallback_and_utf8_name() -> None:
    got = downloads.content_disposition("沧县2020-01-28汇总表.xlsx", "130921 2020/01.xlsx")
    assert got == (
        'attachment; filename="130921_2020_01.xlsx"; '
        "filename*=UTF-8''" + quote("沧县2020-01-28汇总表.xlsx", safe="")
    )
    assert '"' not in downloads.content_disposition('a"b.xlsx', 'x";y.xlsx').split(";")[1][11:-1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("var")
    settings = Settings(home=home, warehouse_url=f"sqlite:///{home / 'warehouse.sqlite'}")
    inbox = home / "inbox" / DAY.isoformat()
    generate_demo_day(DAY, inbox)
    run_day(DAY, settings, inbox)
    return settings


@pytest.fixture
def client(demo: Settings) -> Iterator[TestClient]:
    app = create_app(demo, airflow_api_url="http://127.0.0.1:9")  # downloads never call it
    engine = Backend(demo, None).engine
    store.assign_scope(engine, "reader_a", [COUNTY], "reader")
    store.assign_scope(engine, "steward_c", [COUNTY])
    with TestClient(app) as c:
        yield c


def _numbers(path: Path | io.BytesIO) -> dict[str, list[list[object]]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book}


@pytest.fixture
def cli_env(demo: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """``huizong report`` (the CLI) reads the same warehouse as the app."""
    monkeypatch.setenv("HUIZONG_HOME", str(demo.home))
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", demo.warehouse)
    return demo


def test_reader_downloads_own_county_not_another(
    client: TestClient, cli_env: Settings, airflow_token: Callable[[str], str], tmp_path: Path
) -> None:
    h = {"Authorization": f"Bearer {airflow_token('reader_a')}"}
    steward = {"Authorization": f"Bearer {airflow_token('steward_c')}"}
    assert 'href="/downloads/"' in client.get("/", headers=steward).text  # linked from the index
    page = client.get("/downloads/", headers=h)
    assert page.status_code == 200
    assert f"/downloads/{COUNTY}/{DAY}/xlsx" in page.text and "沧县" in page.text
    assert OTHER not in page.text and "青县" not in page.text
    xlsx = client.get(f"/downloads/{COUNTY}/{DAY}/xlsx", headers=h)
    assert xlsx.status_code == 200, xlsx.text
    assert "filename*=UTF-8''" + quote("沧县", safe="") in xlsx.headers["content-disposition"]
    out = tmp_path / "cli.xlsx"
    assert main(["report", "--unit", COUNTY, "--period", DAY.isoformat(), "-o", str(out)]) == 0
    assert _numbers(io.BytesIO(xlsx.content)) == _numbers(out)
    report = client.get(f"/downloads/{COUNTY}/{DAY}/docx", headers=h)
    assert report.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(report.content)).paragraphs)
    assert text.startswith("沧县疫情防控工作情况汇报")
    txt = client.get(f"/downloads/{COUNTY}/{DAY}/txt", headers=h)
    assert txt.text.startswith("沧县疫情防控工作情况汇报")
    for fmt in ("xlsx", "docx", "txt"):
        assert client.get(f"/downloads/{OTHER}/{DAY}/{fmt}", headers=h).status_code == 403
    assert client.get(f"/downloads/{COUNTY}/{DAY}/pdf", headers=h).status_code == 422
    assert client.get(f"/downloads/{COUNTY}/2020-01-27/xlsx", headers=h).status_code == 404
    assert client.get(f"/downloads/{COUNTY}/{DAY}/xlsx").status_code == 401


def test_download_is_cached_and_regenerated_when_rows_change(
    client: TestClient, demo: Settings, airflow_token: Callable[[str], str]
) -> None:
    h = {"Authorization": f"Bearer {airflow_token('reader_a')}"}
    assert client.get(f"/downloads/{COUNTY}/{DAY}/txt", headers=h).status_code == 200
    folder = demo.home / "out" / "downloads" / COUNTY / DAY.isoformat()
    first = sorted(folder.glob("*.txt"))
    assert len(first) == 1
    assert client.get(f"/downloads/{COUNTY}/{DAY}/txt", headers=h).status_code == 200
    assert sorted(folder.glob("*.txt")) == first  # served from the cache
    import sqlalchemy as sa

    engine = sa.create_engine(demo.warehouse)
    with engine.begin() as conn:  # a re-published day with another figure
        conn.execute(
            sa.text(
                "UPDATE consolidated SET value = value + 1 "
                "WHERE unit_code = :u AND status = 'reported'"
            ),
            {"u": COUNTY},
        )
    engine.dispose()
    assert client.get(f"/downloads/{COUNTY}/{DAY}/txt", headers=h).status_code == 200
    assert len(list(folder.glob("*.txt"))) == 2


def _as(token: Callable[[str], str], user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user)}"}


PERIODS = ["2020-01-28", "2020-W05", "2020-01-3旬", "2020-01"]


def test_page_lists_every_period_with_its_publication(
    client: TestClient, demo: Settings, airflow_token: Callable[[str], str]
) -> None:
    """The day, then its week, 旬 and month (all through the 28th), each with the time and
    run of its publication, and each file downloadable with its Chinese name."""
    h = _as(airflow_token, "reader_a")
    page = client.get("/downloads/", headers=h).text
    section = page[page.index(f'id="unit-{COUNTY}"') : page.index(f'id="below-{COUNTY}"')]
    links = [f'href="/downloads/{COUNTY}/{quote(label)}/xlsx"' for label in PERIODS]
    assert all(link in section for link in links), section
    assert [section.index(link) for link in links] == sorted(section.index(x) for x in links)
    for zh in ("日报", "周报", "旬报", "月报", "2020年1月下旬", "2020年1月27日至2月2日"):
        assert zh in section, zh
    # from the command line: the day says its version and trigger, the periods their run
    assert section.count("第1版 v1") == 1 and section.count("manual") == 1
    assert section.count("huizong run") == 3
    assert section.count("北京时间") == 4 and "未记录" not in section
    engine = Backend(demo, None).engine
    recorded = downloads.publications(engine)
    assert recorded[("day", "2020-01-28")].version == 1
    assert set(recorded) == {
        ("day", "2020-01-28"),
        ("week", "2020-01-27"),
        ("xun", "2020-01-21"),
        ("month", "2020-01-01"),
    }
    for label in PERIODS[1:]:
        for fmt in ("xlsx", "docx", "txt"):
            got = client.get(f"/downloads/{COUNTY}/{quote(label)}/{fmt}", headers=h)
            assert got.status_code == 200, (label, fmt, got.text)
            name = f"沧县{label}{downloads.FORMATS[fmt][1]}.{fmt}"
            assert quote(name, safe="") in got.headers["content-disposition"]
    assert client.get(f"/downloads/{COUNTY}/2020-W04/xlsx", headers=h).status_code == 404


def test_week_workbook_equals_the_cli(
    client: TestClient, cli_env: Settings, airflow_token: Callable[[str], str], tmp_path: Path
) -> None:
    """The same file as ``huizong report`` (its numbers against the warehouse: the
    browser test)."""
    got = client.get(f"/downloads/{COUNTY}/2020-W05/xlsx", headers=_as(airflow_token, "reader_a"))
    out = tmp_path / "week.xlsx"
    assert main(["report", "--unit", COUNTY, "--period", "2020-W05", "-o", str(out)]) == 0
    assert _numbers(io.BytesIO(got.content)) == _numbers(out)


def test_townships_are_listed_under_the_county_and_downloadable(
    client: TestClient, demo: Settings, airflow_token: Callable[[str], str]
) -> None:
    from huizong.registry import registry_for

    h = _as(airflow_token, "reader_a")
    units = registry_for(demo).units
    townships = units[(units["parent_code"] == COUNTY) & (units["kind"] == "township")]
    theirs = units[(units["parent_code"] == OTHER) & (units["kind"] == "township")]
    page = client.get("/downloads/", headers=h).text
    below = page[page.index(f'<details class="below" id="below-{COUNTY}">') :]
    assert f"({len(townships)})" in below
    for code, name in zip(townships["code"], townships["name"], strict=True):
        assert f'id="child-{code}"' in below and name in below
        assert f'href="/downloads/{code}/2020-01-28/xlsx"' in below
    assert not any(str(c) in page for c in theirs["code"])
    first = str(townships["code"].iloc[0])
    workbook = client.get(f"/downloads/{first}/2020-01-28/xlsx", headers=h)
    assert workbook.status_code == 200, workbook.text
    first_name = str(townships["name"].iloc[0])
    assert quote(first_name, safe="") in workbook.headers["content-disposition"]
    assert client.get(f"/downloads/{first}/2020-01/docx", headers=h).status_code == 200
    assert client.get(f"/downloads/{first}/", headers=h).status_code == 200
    other = str(theirs["code"].iloc[0])
    for url in (f"/downloads/{other}/", f"/downloads/{other}/2020-01-28/xlsx"):
        assert client.get(url, headers=h).status_code == 403, url


def test_reader_has_no_steward_page_and_a_steward_keeps_downloads(
    client: TestClient, airflow_token: Callable[[str], str]
) -> None:
    reader, steward = _as(airflow_token, "reader_a"), _as(airflow_token, "steward_c")
    refused = client.get("/", headers={**reader, "Accept": "text/html"})
    assert refused.status_code == 403 and 'href="/downloads/"' in refused.text
    assert client.get(f"/runs/{DAY}", headers=reader).status_code == 403
    assert client.get("/static/review.css", headers=reader).status_code == 200
    page = client.get("/downloads/", headers=reader).text
    assert 'href="/"' not in page  # no link to the review pages
    assert client.get("/", headers=steward).status_code == 200
    own = client.get("/downloads/", headers=steward).text
    assert f"/downloads/{COUNTY}/2020-W05/xlsx" in own and 'href="/">汇总审核' in own
    assert client.get(f"/downloads/{COUNTY}/{DAY}/docx", headers=steward).status_code == 200
    assert client.get(f"/downloads/{OTHER}/{DAY}/docx", headers=steward).status_code == 403


def test_assign_role_reader_from_the_command_line(
    demo: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUIZONG_HOME", str(demo.home))
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", demo.warehouse)
    assert main(["review", "assign", "--role", "reader", "agency", COUNTY, OTHER]) == 0
    assert main(["review", "assign", "agency", "130921100"]) == 0
    capsys.readouterr()
    assert main(["review", "scopes", "agency"]) == 0
    listed = capsys.readouterr().out.split()
    assert listed == ["130921100", "steward", COUNTY, "reader", OTHER, "reader"]
    assert main(["review", "revoke", "--role", "reader", "agency", OTHER]) == 0
    engine = Backend(demo, None).engine
    assert store.scopes_for(engine, "agency", "reader") == (COUNTY,)
    assert store.scopes_for(engine, "agency") == ("130921100",)
