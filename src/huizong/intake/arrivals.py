"""One interface for every source: an :class:`Arrival`, deposited into the day's inbox.

A source adapter (the mailbox, the upload page, a shared folder) only has to say what
arrived, under which name, when, through which channel and from whom. :func:`deposit`
then puts the bytes in the reporting day's inbox folder and the arrival in the day's
receipt book, so the night reads one folder whatever the source and times every file by
its arrival.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import pandas as pd

from huizong.ingest import receipts
from huizong.schedule import NIGHT_HOUR
from huizong.settings import TIMEZONE, Settings

_MAX_NAME_BYTES = 180
_TMP = ".incoming-"


class SourceUnavailable(RuntimeError):
    """A source could not be read; nothing was lost (what was not taken is taken next time)."""


@dataclass(frozen=True)
class Arrival:
    """What a source received: the bytes and where, when and from whom they came."""

    data: bytes
    name: str  # the original name (display only; sanitised before it names a file)
    received_at: datetime  # timezone-aware: the source's own receipt time
    channel: str  # receipts.MAIL, receipts.UPLOAD, …
    sender: str = ""  # mail address or user; "" when unknown
    ref: str = ""  # Message-ID, upload id: what the source dedupes on beside sha256
    sender_unit: str = ""  # the unit a listed sender reports for ("" when not listed)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class Source(Protocol):
    """A place submissions arrive. ``arrivals()`` yields each file once it is safe to take;
    the consumer deposits it before asking for the next, so a source may mark what was
    taken when the generator resumes (never before the files are stored)."""

    channel: str

    def arrivals(self) -> Iterator[Arrival]: ...


@dataclass(frozen=True)
class Deposited:
    day: date
    path: Path  # where the file now is in the day's inbox
    new: bool  # False: the same bytes had already come through this channel that day


def reporting_day_of(at: datetime) -> date:
    """The reporting day an arrival belongs to: its local (Asia/Shanghai) date, except that
    what arrives before the night's run (02:00) still belongs to the day before, the day
    that run consolidates."""
    local = pd.Timestamp(at).tz_convert(ZoneInfo(TIMEZONE))
    return (local - timedelta(hours=NIGHT_HOUR)).date()


def deposit(arrival: Arrival, settings: Settings, day: date | None = None) -> Deposited:
    """Put an arrival in its day's inbox under ``_<channel>/<sha256 prefix>/<name>``.

    The receipt is written first, then the file (atomically): a crash in between leaves a
    receipt without a file (harmless), never a file without its true arrival time. The
    same bytes through the same channel on the same day are kept once (the first arrival).
    """
    day = day or reporting_day_of(arrival.received_at)
    inbox = settings.inbox_for(day)
    sha = arrival.sha256
    folder = inbox / f"_{arrival.channel}" / sha[:16]
    kept = (
        sorted(f for f in folder.iterdir() if not f.name.startswith(_TMP))
        if folder.is_dir()
        else []
    )
    if kept:  # a crash's half-written temp file is not a deposit
        return Deposited(day, kept[0], new=False)
    target = folder / safe_file_name(arrival.name)
    receipts.append(
        receipts.book_path(inbox),
        [
            receipts.Receipt(
                source=target.relative_to(inbox).as_posix(),
                sha256=sha,
                received_at=receipts.iso_utc(pd.Timestamp(arrival.received_at)),
                channel=arrival.channel,
                sender=arrival.sender,
                ref=arrival.ref,
                sender_unit=arrival.sender_unit,
            )
        ],
    )
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=_TMP)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(arrival.data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Deposited(day, target, new=True)


def safe_file_name(name: str) -> str:
    """A sender's file name made safe to be one path component (the display stays close).

    No separators, no control characters, no leading dots (a hidden file or ``..``), at
    most 180 bytes with the extension kept.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    if not base:
        base = "attachment"
    stem, dot, ext = base.rpartition(".")
    if not dot or len(ext) > 8:
        stem, ext = base, ""
    while len((stem + (f".{ext}" if ext else "")).encode("utf-8")) > _MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem + (f".{ext}" if ext else "")
