"""Late reports: a file for an earlier day that arrives in today's inbox goes to that day.

A village that sends the day before yesterday's report this morning has not made a
mistake of date: it is late. Within ``Settings.late_window_days`` (default 30) such a
file is moved, with its receipt time, into the inbox of the day it reports
(``inbox/<that day>/_late/``), its rows in today's ledger are accounted as superseded
(“迟报，已转入该日汇总”), and the night re-publishes only the days it touched, with the
weeks, 旬 and months that contain them. Its timeliness there is judged from its receipt
time: late. Files that mix several days stay where they are (each row is then checked
against today as before), so nothing is ever split or lost.

The decision (:func:`late_routes`, :func:`mark_routed`) is pure; :func:`deliver` does
the copy into the other day's inbox and its receipt book.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from huizong.ingest import receipts

LATE_FOLDER = "_late"


@dataclass(frozen=True)
class Route:
    """One late file and the day it reports."""

    file_id: str
    file_name: str
    source: str  # path in today's inbox
    day: date  # the day it reports

    @property
    def target_source(self) -> str:
        """Its path in that day's inbox (by content, so a second delivery is the same)."""
        return f"{LATE_FOLDER}/{self.file_id[:16]}-{Path(self.source).name}"


def late_routes(
    received: pd.DataFrame, ledger: pd.DataFrame, day: date, window_days: int
) -> list[Route]:
    """The files whose every dated candidate row reports one earlier day in the window."""
    if received.empty or window_days < 1:
        return []
    rows = received[received["disposition"].fillna("candidate") == "candidate"]
    stated = pd.to_datetime(rows["period"], errors="coerce", format="ISO8601").dt.date
    per_file = pd.DataFrame({"file_id": rows["file_id"].astype("str"), "day": stated}).dropna()
    if per_file.empty:
        return []
    days = per_file.groupby("file_id")["day"].agg(lambda d: sorted(set(d)))
    first = day - timedelta(days=window_days)
    sources = ledger.drop_duplicates("file_id").set_index("file_id")
    routes = []
    for file_id, seen in days.items():
        if len(seen) == 1 and first <= seen[0] < day and file_id in sources.index:
            meta = sources.loc[file_id]
            routes.append(Route(file_id, str(meta["file_name"]), str(meta["source"]), seen[0]))
    return sorted(routes, key=lambda r: (r.day, r.source))


def mark_routed(
    received: pd.DataFrame, ledger: pd.DataFrame, routes: list[Route]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Today's RECEIVED and LEDGER with the routed files' rows accounted as superseded."""
    if not routes:
        return received, ledger
    received, ledger = received.copy(), ledger.copy()
    for r in routes:
        rows = received["file_id"].astype("str") == r.file_id
        zh = f"迟报：该文件报告 {r.day.isoformat()}，已转入该日汇总"
        en = f"late report for {r.day.isoformat()}: consolidated into that day"
        received.loc[rows, "disposition"] = "superseded"
        received.loc[rows, "superseded_reason"] = f"{zh} / {en}"
        mine = ledger["file_id"].astype("str") == r.file_id
        ledger.loc[mine, "rows_superseded"] = int(rows.sum())
        ledger.loc[mine, "message"] = f"{zh} / {en}"
    return received, ledger


def deliver(route: Route, stored: Path, target_inbox: Path, today_inbox: Path) -> Path:
    """Copy the ``stored`` file into ``target_inbox`` (the inbox of the day it reports) with
    the receipt it had today (time, channel, sender), so that day counts it late;
    idempotent."""
    target = target_inbox / route.target_source
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copyfile(stored, target)
    book = receipts.read_book(receipts.book_path(today_inbox))
    had = book.get((route.source, route.file_id))
    receipt = receipts.Receipt(
        source=route.target_source,
        sha256=route.file_id,
        received_at=had.received_at if had else receipts.iso_utc(pd.Timestamp.now(tz="UTC")),
        channel=had.channel if had else receipts.FOLDER,
        sender=had.sender if had else "",
        ref=f"late from {today_inbox.name}/{route.source}",
        sender_unit=had.sender_unit if had else "",
    )
    receipts.append(receipts.book_path(target_inbox), [receipt])
    return target
