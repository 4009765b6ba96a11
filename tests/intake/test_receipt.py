"""The receipt (回执) says what the night did with each file: real ingest and validation,
sent back to the mail sender through a real SMTP receiver."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from helpers.smtp import smtp_receiver
from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.ingest import receipts
from huizong.intake.arrivals import Arrival, deposit
from huizong.intake.notify import SmtpNotifier
from huizong.intake.receipt import mail_receipts, receipt_text
from huizong.pipeline import ingest_day, validate_day
from huizong.schedule import DEFAULT_DEADLINES
from huizong.settings import Settings

DAY = date(2026, 11, 26)
TZ = ZoneInfo("Asia/Shanghai")
CAT = load_catalogue()
HEADER = "单位代码,单位名称,日期,排查登记人数,入户走访户数,新增返乡人员"


def test_each_sender_gets_what_was_accepted_and_quarantined_and_why(tmp_path) -> None:
    settings = Settings(home=tmp_path / "home")
    rows = ["130902001001,建北社区,2026-11-26,-4,2,3", "130902001002,院东社区,2026-11-26,1,2,3"]
    bad = "\n".join([HEADER, *rows]) + "\n"
    good = f"{HEADER}\n130902001012,站西社区,2026-11-26,1,2,3\n"
    at = datetime(2026, 11, 26, 16, 30, tzinfo=TZ)
    deposit(Arrival(bad.encode(), "建北.csv", at, receipts.MAIL, sender="a@x.example"), settings)
    deposit(Arrival(good.encode(), "站西.csv", at, receipts.MAIL, sender="b@x.example"), settings)
    ingest_day(DAY, settings)
    validate_day(DAY, settings)
    quarantine = pd.read_parquet(settings.run_dir(DAY) / frames.QUARANTINE)
    [q] = quarantine.to_dict("records")  # the negative count, row 2

    with smtp_receiver() as box:
        notifier = SmtpNotifier.from_uri(f"smtp://127.0.0.1:{box.port}", sender="huizong@x")
        assert mail_receipts(DAY, settings, notifier) == {"sent": ["a@x.example", "b@x.example"]}
    by_to = {m["To"]: m.get_content() for m in box.messages}
    text = by_to["a@x.example"]
    assert "建北.csv" in text and "2026-11-26 16:30:00（按时 / on time）" in text
    assert "收到 received 2，通过 accepted 1，隔离 quarantined 1" in text
    label = f"{CAT.indicator(q['column']).zh}({q['column']})"  # as `huizong validate` says
    assert f"第2行 row 2，列 column {label}：{q['message_zh']} / {q['message_en']}" in text
    assert "报送截止时间 / deadline: 2026-11-26 20:00" in text  # a batch: the township's
    assert "已接收，部分数据未通过校验" in text
    assert "院东" not in by_to["b@x.example"] and "全部数据通过校验" in by_to["b@x.example"]
    assert "2026-11-26 18:00" in by_to["b@x.example"]  # one village: the village deadline


def test_a_receipt_after_the_deadline_says_so() -> None:
    files = pd.DataFrame(
        [
            {
                "file_id": "f",
                "file_name": "晚.xlsx",
                "received_at": pd.Timestamp("2026-11-26 19:00", tz=TZ),
                "status": "rejected",
                "rows_received": 0,
                "rows_accepted": 0,
                "rows_quarantined": 0,
                "rows_superseded": 0,
                "message": "空文件（0字节） / empty file",
            }
        ]
    )
    text = receipt_text(
        files,
        pd.DataFrame(columns=frames.ISSUE_COLUMNS),
        DAY,
        DEFAULT_DEADLINES,
        now=datetime(2026, 11, 27, tzinfo=TZ),
        catalogue=CAT,
    )
    assert "晚于截止时间 / after the deadline" in text
    assert "未能读取" in text and "空文件" in text
    assert "（已过 / passed）" in text


def test_one_sender_with_a_village_file_and_a_batch_gets_a_verdict_per_file(tmp_path) -> None:
    """At 19:00 a village's own file is late (18:00) and a township's batch is not (20:00):
    the mail receipt says so of each, as the upload page and the night's on-time count do."""
    settings = Settings(home=tmp_path / "home")
    alone = f"{HEADER}\n130902001012,站西社区,2026-11-26,1,2,3\n"
    batch = "\n".join(
        [HEADER, "130902001001,建北社区,2026-11-26,1,2,3", "130902001002,院东社区,2026-11-26,1,2,3"]
    )
    at = datetime(2026, 11, 26, 19, 0, tzinfo=TZ)
    sender = "clerk@x.example"
    deposit(Arrival(alone.encode(), "站西.csv", at, receipts.MAIL, sender=sender), settings)
    deposit(Arrival(f"{batch}\n".encode(), "街道.csv", at, receipts.MAIL, sender=sender), settings)
    ingest_day(DAY, settings)
    validate_day(DAY, settings)

    with smtp_receiver() as box:
        notifier = SmtpNotifier.from_uri(f"smtp://127.0.0.1:{box.port}", sender="huizong@x")
        assert mail_receipts(DAY, settings, notifier) == {"sent": [sender]}
    [message] = box.messages
    text = message.get_content()
    blocks = {b.split("\n", 1)[0]: b for b in text.split("\n\n") if b.startswith("文件")}
    alone_block, batch_block = blocks["文件 / file: 站西.csv"], blocks["文件 / file: 街道.csv"]
    assert "（晚于截止时间 / after the deadline）" in alone_block
    assert "截止时间 / deadline: 2026-11-26 18:00" in alone_block
    assert "（按时 / on time）" in batch_block
    assert "截止时间 / deadline: 2026-11-26 20:00" in batch_block
    assert "报送截止时间 / deadline: 2026-11-26 18:00" in text
    assert "报送截止时间 / deadline: 2026-11-26 20:00" in text
