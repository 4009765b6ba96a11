"""汇总下载: a county reader downloads the demo day's workbook and 情况汇报; another
county's are neither listed nor reachable; the workbook equals ``huizong report``'s."""

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
    store.assign_scope(engine, "reader_a", [COUNTY])
    with TestClient(app) as c:
        yield c


def _numbers(path: Path | io.BytesIO) -> dict[str, list[list[object]]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book}


def test_reader_downloads_own_county_not_another(
    client: TestClient,
    demo: Settings,
    airflow_token: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUIZONG_HOME", str(demo.home))
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", demo.warehouse)
    h = {"Authorization": f"Bearer {airflow_token('reader_a')}"}
    assert 'href="/downloads/"' in client.get("/", headers=h).text  # linked from the index
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
