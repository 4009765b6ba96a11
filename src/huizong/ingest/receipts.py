"""The receipt book: when each file of a day's inbox arrived, through which channel, from whom.

A file's modification time is whatever the copy tool left (``cp -p`` keeps an old one),
so it is no evidence of when a report arrived. The book records, once per
(path in the day's inbox, sha256), the moment of arrival: the server's receipt time for
mail, the upload time for the upload page, and for a file that was simply put in the
folder the moment the ledger first saw it. A re-run reads the book and keeps every time.

The book is a JSON-lines file beside the day's folder (``<inbox>/<day>.receipts.jsonl``,
like the demo's manifest), appended under an exclusive lock; the first record of a key
wins, so appending twice is harmless.

A module of its own (not inside ``intake``) because intake writes the book and ingest
reads it, and intake already builds on ingest (its zip checks, the deadline counts):
here neither package needs the other to know when a file arrived.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

#: Channels a receipt can come from (the ledger's ``channel`` column); ``store`` is a
#: shared drive or bucket read through Airflow's object storage.
FOLDER, MAIL, UPLOAD, REVIEW, STORE = "folder", "mail", "upload", "review", "store"


@dataclass(frozen=True)
class Receipt:
    """One arrival of one file, keyed by (``source``, ``sha256``)."""

    source: str  # path relative to the day's inbox, as the ledger's ``source`` column
    sha256: str  # "" for what is never read (links, devices)
    received_at: str  # ISO 8601, UTC
    channel: str
    sender: str = ""  # mail address, user name, or "" when unknown
    ref: str = ""  # Message-ID for mail, upload id for the upload page
    sender_unit: str = ""  # the unit the sources file maps the sender to ("" if unlisted)
    #: A steward's correction only: when the reporter's own submission it revises arrived
    #: (ISO 8601, UTC). Its rows are timed by it, so a correction never makes a unit late;
    #: ``received_at`` stays the steward's action (and orders it after what it revises).
    reported_at: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.sha256)

    @property
    def timestamp(self) -> pd.Timestamp:
        return pd.Timestamp(self.received_at).tz_convert("UTC").as_unit("us")

    @property
    def reported(self) -> pd.Timestamp:
        """When the unit's report counts as received (timeliness): the reporter's own
        submission for a steward's correction, else the arrival itself."""
        at = self.reported_at or self.received_at
        return pd.Timestamp(at).tz_convert("UTC").as_unit("us")


def book_path(inbox: Path) -> Path:
    """The receipt book of the day whose folder is ``inbox``."""
    inbox = Path(inbox)
    return inbox.with_name(inbox.name + ".receipts.jsonl")


def read_book(path: Path) -> dict[tuple[str, str], Receipt]:
    """Every receipt of the book by key; the first record of a key wins."""
    if not path.exists():
        return {}
    out: dict[tuple[str, str], Receipt] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                r = Receipt(**json.loads(line))
                out.setdefault(r.key, r)
    return out


def append(path: Path, receipts: Iterable[Receipt]) -> None:
    """Append receipts durably (lock, write, fsync) so concurrent sources never interleave."""
    lines = [json.dumps(asdict(r), ensure_ascii=False, sort_keys=True) + "\n" for r in receipts]
    if not lines:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.write("".join(lines))
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def reported_at_of(book: dict[tuple[str, str], Receipt], sha256: str) -> str:
    """When the report in the file ``sha256`` counts as received, from the day's book
    ("" when the book does not know the file)."""
    found = [r for r in book.values() if r.sha256 == sha256]
    return iso_utc(min(r.reported for r in found)) if found else ""


def iso_utc(at: pd.Timestamp) -> str:
    """The book's time format (UTC, microseconds)."""
    return pd.Timestamp(at).tz_convert("UTC").as_unit("us").isoformat()
