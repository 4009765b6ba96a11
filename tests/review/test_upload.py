"""The clerks' upload page over HTTP with real Airflow JWTs: the problem at once, in both
languages with row and column; the fix supersedes at night; another unit is 403."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from huizong import frames
from huizong.pipeline import ingest_day, validate_day
from huizong.review import store
from huizong.review.airflow_api import InMemoryAirflow
from huizong.review.app import create_app
from huizong.settings import Settings

DAY = date(2026, 11, 26)
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
