"""The sources file of a deployment: mailboxes, shared stores, deadlines per level, stewards.

TOML, named by ``HUIZONG_SOURCES`` (default ``$HUIZONG_HOME/sources.toml``; absent = the
folder inbox only, the default deadlines, no notices). It never holds a password: each
mailbox and the notifier name an Airflow connection id.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from huizong.intake.mailbox import TAKEN_FLAG, MailboxConfig
from huizong.intake.objectstore import StoreConfig
from huizong.schedule import DEFAULT_DEADLINES
from huizong.settings import Settings


@dataclass(frozen=True)
class Steward:
    """Who answers for a part of the tree, and where their notices go."""

    email: str
    units: tuple[str, ...]  # org-unit codes; each covers its whole subtree
    name: str = ""


@dataclass(frozen=True)
class SourcesConfig:
    mailboxes: tuple[MailboxConfig, ...] = ()
    #: shared drives / buckets read through Airflow's object storage (optional)
    stores: tuple[StoreConfig, ...] = ()
    deadlines: dict[str, time] = field(default_factory=lambda: dict(DEFAULT_DEADLINES))
    stewards: tuple[Steward, ...] = ()
    smtp_conn_id: str = "huizong_smtp"
    mail_from: str = "huizong@localhost"
    #: send each mailed submission its receipt (回执) by return mail; off by default
    mail_receipts: bool = False

    @property
    def last_deadline(self) -> time:
        return max(self.deadlines.values())


def deadlines_of(settings: Settings) -> dict[str, time]:
    """Every level's deadline: the one setting (the sources file's ``[deadlines]``, else
    ``schedule.DEFAULT_DEADLINES``) that the receipt, the deadline lists, the night's
    timeliness and the workbooks' 统计截止时间 all read."""
    return dict(load_sources(settings.sources).deadlines)


def load_sources(path: Path | None) -> SourcesConfig:
    """Read the sources file; the defaults when there is none."""
    if path is None or not Path(path).exists():
        return SourcesConfig()
    doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    mailboxes = tuple(
        MailboxConfig(
            name=m.get("name", m["conn_id"]),
            conn_id=m["conn_id"],
            folder=m.get("folder", "INBOX"),
            taken_flag=m.get("taken_flag", TAKEN_FLAG),
            move_to=m.get("move_to", ""),
            senders={k.lower(): str(v) for k, v in m.get("senders", {}).items()},
        )
        for m in doc.get("mailbox", [])
    )
    stores = tuple(
        StoreConfig(
            name=st.get("name", st["url"]),
            url=st["url"],
            conn_id=st.get("conn_id", ""),
            received=st.get("received", "first_seen"),
            sender_unit=str(st.get("sender_unit", "")),
        )
        for st in doc.get("store", [])
    )
    deadlines = dict(DEFAULT_DEADLINES)
    for level, hhmm in doc.get("deadlines", {}).items():
        if level not in DEFAULT_DEADLINES:
            known = sorted(DEFAULT_DEADLINES)
            raise ValueError(f"deadline for unknown level {level!r}: use {known}")
        deadlines[level] = time.fromisoformat(str(hhmm))
    notify = doc.get("notify", {})
    stewards = tuple(
        Steward(email=s["email"], units=tuple(str(u) for u in s["units"]), name=s.get("name", ""))
        for s in doc.get("steward", [])
    )
    return SourcesConfig(
        mailboxes=mailboxes,
        stores=stores,
        deadlines=deadlines,
        stewards=stewards,
        smtp_conn_id=notify.get("smtp_conn_id", "huizong_smtp"),
        mail_from=notify.get("from", "huizong@localhost"),
        mail_receipts=bool(notify.get("mail_receipts", False)),
    )
