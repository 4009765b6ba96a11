"""At the village deadline: the missing list is the registry minus the reporters, and it
reaches the steward through a real SMTP receiver (aiosmtpd on loopback)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from helpers.smtp import Received, smtp_receiver
from huizong.ingest import receipts
from huizong.intake.arrivals import Arrival, deposit
from huizong.intake.config import SourcesConfig, Steward, load_sources
from huizong.intake.deadlines import chase_day, deadline_of, expected
from huizong.intake.notify import SmtpNotifier
from huizong.registry.loaded import registry_for
from huizong.settings import Settings

DAY = date(2026, 11, 26)
TZ = ZoneInfo("Asia/Shanghai")
HEADER = "单位代码,单位名称,日期,排查登记人数,入户走访户数,新增返乡人员"
TOWNSHIP = "130902001"


@pytest.fixture
def smtp() -> Iterator[Received]:
    with smtp_receiver() as box:
        yield box


def _batch(units: list[tuple[str, str]]) -> bytes:
    rows = [f"{code},{name},{DAY.isoformat()},1,1,1" for code, name in units]
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def test_missing_at_the_village_deadline_is_registry_minus_reporters(tmp_path, smtp) -> None:
    received_mail, port = smtp, smtp.port
    settings = Settings(home=tmp_path / "home")
    registry = registry_for(settings)
    villages = registry.units[
        (registry.units["township_code"] == TOWNSHIP) & (registry.units["level"] == 5)
    ]
    units = list(zip(villages["code"], villages["name"], strict=True))
    on_time, late = units[:-3], units[-3:-2]  # three missing at 18:00, one of them late
    at = lambda h, m=0: datetime(2026, 11, 26, h, m, tzinfo=TZ)  # noqa: E731
    deposit(Arrival(_batch(on_time), "batch.csv", at(17, 30), receipts.MAIL), settings)
    deposit(Arrival(_batch(late), "late.csv", at(18, 30), receipts.MAIL), settings)
    config = SourcesConfig(
        stewards=(Steward(email="zhang@town.example", units=(TOWNSHIP,)),),
        mail_from="huizong@office.example",
    )
    notifier = SmtpNotifier.from_uri(f"smtp://127.0.0.1:{port}", sender=config.mail_from)

    summary = chase_day(DAY, "village", settings, config, notifier)

    reporters = {code for code, _ in on_time}  # arrived by 18:00
    want = set(expected(registry, "village")["code"]) - reporters
    assert summary["list"] == f"file://{settings.run_dir(DAY)}/missing_at_village_deadline.json"
    listed = json.loads(
        (settings.run_dir(DAY) / "missing_at_village_deadline.json").read_text(encoding="utf-8")
    )["missing"]
    assert {m["code"] for m in listed} == want
    town_missing = {m["code"] for m in listed if m["township_code"] == TOWNSHIP}
    assert town_missing == set(villages["code"]) - reporters
    assert len(town_missing) == 3
    assert summary["notified"] == ["zhang@town.example"]

    [msg] = received_mail.messages
    assert msg["To"] == "zhang@town.example"
    assert "3 units not reported by the village deadline 18:00" in msg["Subject"]
    body = msg.get_content()
    coded = {line.split()[0] for line in body.splitlines() if line.startswith("    ")}
    assert coded == town_missing  # exactly the township's missing units, no others
    assert "以下单位尚未上报" in body and "have not reported yet" in body


def test_deadlines_come_from_the_sources_file(tmp_path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[deadlines]\nvillage = "17:30"\n')
    config = load_sources(path)
    assert config.deadlines["village"] == time(17, 30)
    assert config.deadlines["township"] == time(20, 0)  # default kept
    assert deadline_of(DAY, "village", config) == datetime(2026, 11, 26, 17, 30, tzinfo=TZ)
    path.write_text('[deadlines]\nprovince = "12:00"\n')
    with pytest.raises(ValueError, match="unknown level"):
        load_sources(path)
