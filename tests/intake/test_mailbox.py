"""The mailbox source against a real IMAP server: taken once, timed by the server, never deleted."""

from __future__ import annotations

import hashlib
import imaplib
import re
from datetime import date, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from helpers.reports import report_xlsx, zipped_gb18030_csv
from huizong import frames
from huizong.intake.mailbox import (
    TAKEN_FLAG,
    MailboxConfig,
    MailboxSource,
    MailboxUnavailable,
    Server,
)
from huizong.intake.pull import pull, pull_sources
from huizong.pipeline import ingest_day
from huizong.settings import Settings

DAY = date(2026, 11, 26)
TZ = ZoneInfo("Asia/Shanghai")
CLERK = "clerk@jianbei.example"


def _xlsx(code: str, name: str) -> bytes:
    return report_xlsx(code, name, DAY)


def _message(msg_id: str, sender: str, name: str, data: bytes, subtype: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "office@example.org"
    msg["Subject"] = "日报"
    msg["Message-ID"] = msg_id
    msg.set_content("见附件")
    msg.add_attachment(data, maintype="application", subtype=subtype, filename=name)
    return msg.as_bytes()


def _append(imap: imaplib.IMAP4, raw: bytes, at: datetime) -> None:
    typ, data = imap.append("INBOX", None, imaplib.Time2Internaldate(at), raw)
    assert typ == "OK", data


def _flags(imap: imaplib.IMAP4) -> list[str]:
    typ, data = imap.uid("FETCH", "1:*", "(FLAGS)")
    assert typ == "OK"
    return [d.decode() for d in data if d]


def _source(dovecot, **kw) -> MailboxSource:
    config = MailboxConfig(
        name="office", conn_id="huizong_mail", senders={CLERK: "130902001001"}, **kw
    )
    return MailboxSource(config, Server.from_uri(dovecot.uri))


def test_three_messages_become_two_files_once_each_with_server_times(dovecot, tmp_path) -> None:
    settings = Settings(home=tmp_path / "home")
    at = [datetime(2026, 11, 26, h, 5, 7, tzinfo=TZ) for h in (9, 10, 11)]
    xlsx = _xlsx("130902001001", "建北社区")
    imap = dovecot.client()
    _append(
        imap,
        _message(
            "<m1@x>",
            f"建北 <{CLERK}>",
            "建北社区.xlsx",
            xlsx,
            "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        at[0],
    )
    zipped = zipped_gb18030_csv(DAY)
    _append(imap, _message("<m2@x>", "other@x.example", "院东.zip", zipped, "zip"), at[1])
    _append(
        imap,
        _message(
            "<m3@x>",
            CLERK,
            "建北社区(再发).xlsx",
            xlsx,
            "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        at[2],
    )

    first = pull(_source(dovecot), settings)
    assert (first["files_new"], first["files_again"]) == (2, 1)
    ingest_day(DAY, settings)
    ledger = pd.read_parquet(settings.run_dir(DAY) / frames.LEDGER).set_index("file_name")
    assert sorted(ledger.index) == ["建北社区.xlsx", "院东社区日报.csv"]
    assert (ledger["status"] == "read").all() and (ledger["rows_received"] == 1).all()
    assert (ledger["channel"] == "mail").all()
    assert ledger.loc["建北社区.xlsx", "received_at"] == pd.Timestamp(at[0])
    assert ledger.loc["院东社区日报.csv", "received_at"] == pd.Timestamp(at[1])
    assert ledger.loc["建北社区.xlsx", "sender"] == CLERK
    assert ledger.loc["建北社区.xlsx", "sender_unit"] == "130902001001"
    assert ledger.loc["院东社区日报.csv", "sender_unit"] == ""
    received = pd.read_parquet(settings.run_dir(DAY) / frames.RECEIVED)
    assert received.set_index("unit_code").loc["130902001002", "unit_name"] == "院东社区"  # GB18030

    again = pull(_source(dovecot), settings)
    assert (again["files_new"], again["files_again"]) == (0, 0)
    flags = _flags(dovecot.client())
    assert len(flags) == 3  # nothing deleted
    assert all(TAKEN_FLAG in f and "\\Deleted" not in f and "\\Seen" not in f for f in flags)


def test_a_mailbox_that_is_down_fails_clearly_and_loses_nothing(
    dovecot, tmp_path, monkeypatch
) -> None:
    settings = Settings(home=tmp_path / "home", sources_file=tmp_path / "sources.toml")
    (tmp_path / "sources.toml").write_text(
        '[[mailbox]]\nname = "office"\nconn_id = "huizong_mail"\n'
    )
    monkeypatch.setenv("AIRFLOW_CONN_HUIZONG_MAIL", dovecot.uri)
    at = datetime(2026, 11, 26, 17, 59, tzinfo=TZ)
    _append(
        dovecot.client(),
        _message("<m9@x>", CLERK, "建北.xlsx", _xlsx("130902001001", "建北社区"), "octet-stream"),
        at,
    )
    dovecot.stop()
    with pytest.raises(MailboxUnavailable, match=r"邮箱“office”.*could not be read"):
        pull_sources(settings)
    assert not settings.inbox_for(DAY).exists()
    dovecot.start()
    summary = pull_sources(settings)
    assert summary["office"]["files_new"] == 1 and summary["office"]["messages"] == 1
    taken = list(settings.inbox_for(DAY).rglob("*.xlsx"))
    assert [p.name for p in taken] == ["建北.xlsx"]
    assert re.search(TAKEN_FLAG.replace("$", r"\$"), _flags(dovecot.client())[0])


def test_cli_pull_reads_the_connection_from_the_environment(dovecot, tmp_path, monkeypatch, capsys):
    from huizong.cli import main

    sources = tmp_path / "sources.toml"
    sources.write_text('[[mailbox]]\nname = "office"\nconn_id = "huizong_mail"\n')
    monkeypatch.setenv("HUIZONG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HUIZONG_SOURCES", str(sources))
    monkeypatch.delenv("HUIZONG_INBOX", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_HUIZONG_MAIL", raising=False)
    assert main(["intake", "pull"]) == 1
    assert "AIRFLOW_CONN_HUIZONG_MAIL" in capsys.readouterr().err
    monkeypatch.setenv("AIRFLOW_CONN_HUIZONG_MAIL", dovecot.uri)
    at = datetime(2026, 11, 26, 12, 0, tzinfo=TZ)
    raw = _message("<c1@x>", CLERK, "建北.xlsx", _xlsx("130902001001", "建北社区"), "octet-stream")
    _append(dovecot.client(), raw, at)
    assert main(["intake", "pull"]) == 0
    assert "office: 1 messages, 1 new files ['2026-11-26']" in capsys.readouterr().out


def test_a_message_is_marked_only_after_all_its_files_are_stored(dovecot, tmp_path) -> None:
    """The second attachment cannot be stored (its folder is blocked by a file): the pull
    fails, the message stays unmarked; the next pull takes what is missing and marks it."""
    settings = Settings(home=tmp_path / "home")
    first, second = _xlsx("130902001001", "建北社区"), _xlsx("130902001002", "院东社区")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Message-ID"] = CLERK, "office@example.org", "<two@x>"
    msg["Subject"] = "日报"
    msg.set_content("见附件")
    for name, data in (("建北.xlsx", first), ("院东.xlsx", second)):
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    _append(dovecot.client(), msg.as_bytes(), datetime(2026, 11, 26, 15, 0, tzinfo=TZ))
    blocker = settings.inbox_for(DAY) / "_mail" / hashlib.sha256(second).hexdigest()[:16]
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")

    with pytest.raises(OSError):
        pull(_source(dovecot), settings)
    [flags] = _flags(dovecot.client())
    assert TAKEN_FLAG not in flags and "\\Deleted" not in flags

    blocker.unlink()
    again = pull(_source(dovecot), settings)
    assert (again["files_new"], again["files_again"]) == (1, 1)  # the first was kept once
    [flags] = _flags(dovecot.client())
    assert TAKEN_FLAG in flags
    ingest_day(DAY, settings)
    ledger = pd.read_parquet(settings.run_dir(DAY) / frames.LEDGER)
    assert sorted(ledger["file_name"]) == ["建北.xlsx", "院东.xlsx"]
    assert (ledger["status"] == "read").all()
