"""The clerks' upload page over HTTP with real Airflow JWTs: the problem at once, in both
languages with row and column; the fix supersedes at night; another unit is 403."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.ingest import receipts
from huizong.intake.config import deadlines_of
from huizong.intake.receipt import department_codes, receipt_text
from huizong.pipeline import ingest_day, validate_day
from huizong.registry.loaded import registry_for
from huizong.review import store
from huizong.review.airflow_api import InMemoryAirflow
from huizong.review.app import create_app
from huizong.settings import Settings

DAY = date(2026, 11, 26)
TZ = ZoneInfo("Asia/Shanghai")
UNIT, OTHER = "130902001001", "130902001002"
HEADER = "单位代码,单位名称,日期,排查登记人数,入户走访户数,新增返乡人员"


def _csv(code: str, screened: str) -> bytes:
    return f"{HEADER}\n{code},建北社区,{DAY.isoformat()},{screened},2,3\n".encode()


@pytest.fixture
def clerk(tmp_path: Path, airflow_token: Callable[[str], str]) -> Iterator[tuple]:
    settings = Settings(home=tmp_path / "home")
    settings.home.mkdir(parents=True)
    engine = sa.create_engine(settings.warehouse)
    store.ensure_schema(engine)
    store.assign_scope(engine, "clerk_jianbei", [UNIT])
    app = create_app(settings, engine=engine, airflow=InMemoryAirflow())
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {airflow_token('clerk_jianbei')}"}, settings
    engine.dispose()


def _upload(client, headers, unit: str, name: str, data: bytes):
    return client.post(
        f"/upload/{DAY.isoformat()}",
        data={"unit_code": unit},
        files={"file": (name, data, "text/csv")},
        headers=headers,
    )


def test_error_at_once_then_the_fix_is_what_the_night_counts(clerk) -> None:
    client, headers, settings = clerk
    form = client.get(f"/upload/{DAY.isoformat()}", headers=headers)
    assert form.status_code == 200 and UNIT in form.text

    bad = _upload(client, headers, UNIT, "建北.csv", _csv(UNIT, "-4"))
    assert bad.status_code == 200, bad.text
    assert "有错误" in bad.text and "errors: correct them" in bad.text
    # the same line `huizong validate` prints: file, row, column (as in the template), zh | en
    assert "[错误 error] 文件 建北.csv / 第2行 / 列 排查登记人数(persons_screened)" in bad.text

    good = _upload(client, headers, UNIT, "建北(改).csv", _csv(UNIT, "4"))
    assert good.status_code == 200 and "passed the checks" in good.text
    listed = client.get(f"/upload/{DAY.isoformat()}", headers=headers).text
    assert "本日已上传" in listed
    assert listed.index("建北.csv") < listed.index("建北(改).csv")  # oldest first

    ingest_day(DAY, settings)
    validate_day(DAY, settings)
    run = settings.run_dir(DAY)
    ledger = pd.read_parquet(run / frames.ACCOUNTED_LEDGER).set_index("file_name")
    assert ledger.loc["建北.csv", "status"] == "superseded"
    assert ledger.loc["建北(改).csv", "status"] == "accepted"
    assert set(ledger["channel"]) == {"upload"} and set(ledger["sender"]) == {"clerk_jianbei"}
    accepted = pd.read_parquet(run / frames.ACCEPTED)
    assert accepted["file_name"].tolist() == ["建北(改).csv"]
    assert int(accepted["persons_screened"].iloc[0]) == 4
    assert pd.read_parquet(run / frames.QUARANTINE).empty  # the bad row was superseded


def test_a_clerk_cannot_upload_for_another_unit(clerk) -> None:
    client, headers, settings = clerk
    other = _upload(client, headers, OTHER, "院东.csv", _csv(OTHER, "1"))
    assert other.status_code == 403
    smuggled = _upload(client, headers, UNIT, "院东.csv", _csv(OTHER, "1"))
    assert smuggled.status_code == 403 and "outside yours" in smuggled.text
    assert not settings.inbox_for(DAY).exists()  # nothing kept


def _receipt_on(page_html: str) -> str:
    found = re.search(r"<pre id='receipt'[^>]*>(.*?)</pre>", page_html, re.S)
    assert found, page_html
    return html.unescape(found.group(1))


def test_the_receipt_on_the_page_is_the_one_the_night_writes(clerk) -> None:
    client, headers, settings = clerk
    bad = _upload(client, headers, UNIT, "建北.csv", _csv(UNIT, "-4"))
    shown = _receipt_on(bad.text)
    [arrival] = receipts.read_book(receipts.book_path(settings.inbox_for(DAY))).values()
    at = arrival.timestamp.tz_convert(TZ)
    assert f"收到时间 / received: {at.strftime('%Y-%m-%d %H:%M:%S')}" in shown
    assert "隔离 quarantined 1" in shown
    # the column named as `huizong validate` (the page's line above) names it, 中文(code)
    assert "第2行 row 2，列 column 排查登记人数(persons_screened)：" in shown
    assert "列 排查登记人数(persons_screened)" in bad.text
    assert "报送截止时间 / deadline: 2026-11-26 18:00" in shown  # one village: its deadline
    assert "晚于截止时间 / after the deadline" in shown  # uploaded days after 26 Nov 18:00

    # the night, on the same inbox, says the same: same reader, rules and accounting
    ingest_day(DAY, settings)
    validate_day(DAY, settings)
    run = settings.run_dir(DAY)
    night = receipt_text(
        pd.read_parquet(run / frames.ACCOUNTED_LEDGER),
        pd.read_parquet(run / frames.QUARANTINE),
        DAY,
        deadlines_of(settings),
        departments=department_codes(registry_for(settings)),
        now=at.to_pydatetime(),
        catalogue=load_catalogue(settings.form),
    )
    assert shown == night


def test_a_township_batch_is_judged_by_the_township_deadline(clerk) -> None:
    client, headers, settings = clerk
    store.assign_scope(sa.create_engine(settings.warehouse), "clerk_jianbei", ["130902001"])
    batch = _csv(UNIT, "1") + f"{OTHER},院东社区,{DAY.isoformat()},2,2,3\n".encode()
    shown = _receipt_on(_upload(client, headers, "130902001", "新华路街道.csv", batch).text)
    assert "通过 accepted 2" in shown and "deadline: 2026-11-26 20:00" in shown


def test_the_day_chooser_goes_to_the_chosen_day(clerk) -> None:
    client, headers, _ = clerk
    went = client.get(
        f"/upload/{DAY.isoformat()}?day=2026-11-25", headers=headers, follow_redirects=False
    )
    assert went.status_code == 303 and went.headers["location"].endswith("/upload/2026-11-25")
    assert client.get(f"/upload/{DAY.isoformat()}?day=昨天", headers=headers).status_code == 400
    form = client.get(f"/upload/{DAY.isoformat()}", headers=headers)
    assert f'value="{UNIT}"' in form.text  # one unit assigned: filled in


def test_a_failing_reupload_keeps_the_earlier_report_and_the_receipt_says_so(clerk) -> None:
    client, headers, settings = clerk
    good = _upload(client, headers, UNIT, "建北.csv", _csv(UNIT, "4"))
    assert good.status_code == 200 and "passed the checks" in good.text
    bad = _upload(client, headers, UNIT, "建北(错).csv", _csv(UNIT, "-4"))
    shown = _receipt_on(bad.text)
    assert "文件 / file: 建北(错).csv" in shown and "建北.csv）" in shown
    assert "文件 / file: 建北.csv\n" not in shown  # the receipt is the new file's alone
    assert (
        f"建北社区（{UNIT}） 未通过校验，沿用先前已接收的报表（建北.csv） / "
        f"建北社区（{UNIT}）: failed checks; your earlier report (建北.csv) stays in use"
    ) in shown

    # the night gives the same verdict on the same inbox
    ingest_day(DAY, settings)
    validate_day(DAY, settings)
    run = settings.run_dir(DAY)
    ledger = pd.read_parquet(run / frames.ACCOUNTED_LEDGER).set_index("file_name")
    assert ledger.loc["建北.csv", "status"] == "accepted"
    assert ledger.loc["建北(错).csv", "status"] == "quarantined"
    accepted = pd.read_parquet(run / frames.ACCEPTED)
    assert accepted["file_name"].tolist() == ["建北.csv"]
    assert int(accepted["persons_screened"].iloc[0]) == 4
    night = pd.read_parquet(run / frames.QUARANTINE)
    assert "earlier_report_kept" in set(night["rule"])
