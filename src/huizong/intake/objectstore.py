"""A shared location as a source: any fsspec place through Airflow's object storage.

``ObjectStoragePath`` (``airflow.sdk``) reads a mounted shared drive (``file:///mnt/…``),
an S3-compatible bucket (``s3://bucket/reports/`` with an Airflow connection holding the
keys) or any other fsspec protocol whose package is installed, with the credentials in an
Airflow connection, never in the sources file. The location is only read: nothing there
is moved, renamed or deleted (clerks and other offices share it).

* Taken once: after a file's reports are deposited, its (path, sha256) is appended to the
  source's *taken book* (``$HUIZONG_HOME/intake/<name>.taken.jsonl``); a pull skips what
  the book holds, so a file is taken once, and a file overwritten with new bytes is a new
  arrival (the correction supersedes at night). A failed deposit leaves the file untaken.
* Received time: by default the moment a pull first saw the file (as for the folder inbox:
  a copied file's mtime is whatever the copy tool left). ``received = "modified"`` uses
  the store's own modification time instead, for stores that set it themselves when an
  object is written (S3's ``LastModified``) — never for a mounted drive.
* Files: ``.xlsx``, ``.xls``, ``.csv`` and those inside a ``.zip``, as for mail.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from huizong.ingest import receipts
from huizong.intake.arrivals import Arrival, SourceUnavailable
from huizong.intake.mailbox import REPORT_SUFFIXES, report_files

RECEIVED_RULES = ("first_seen", "modified")


class StoreUnavailable(SourceUnavailable):
    """The location could not be listed or read; nothing was lost (the next pull retries)."""


@dataclass(frozen=True)
class StoreConfig:
    """One ``[[store]]`` of the sources file."""

    name: str
    url: str  # file:///mnt/share/reports/, s3://bucket/prefix/, …
    conn_id: str = ""  # the Airflow connection with the credentials ("" for a local mount)
    received: str = "first_seen"  # or "modified" (the store's own write time)
    sender_unit: str = ""  # the unit that writes there, when the location is one unit's

    def __post_init__(self) -> None:
        if self.received not in RECEIVED_RULES:
            raise ValueError(f"store {self.name}: received must be one of {RECEIVED_RULES}")


def taken_book(home: Path, name: str) -> Path:
    return home / "intake" / f"{name}.taken.jsonl"


@dataclass
class ObjectStoreSource:
    """Arrivals from one object-storage location; see the module docstring for the rules."""

    config: StoreConfig
    book: Path  # the taken book
    channel: str = receipts.STORE

    def arrivals(self) -> Iterator[Arrival]:
        taken = self._taken()
        for rel, path in self._files():
            try:
                data = path.read_bytes()
                modified = self._modified(path)
            except OSError as exc:
                raise self._unavailable(exc) from exc
            sha = hashlib.sha256(data).hexdigest()
            if (rel, sha) in taken:
                continue
            seen = datetime.now(UTC)
            at = modified if self.config.received == "modified" and modified else seen
            for name, member in report_files(PurePosixPath(rel).name, data):
                yield Arrival(
                    member,
                    name,
                    at,
                    self.channel,
                    sender=f"{self.config.name}:{rel}",
                    ref=f"{self.config.name}:{rel}:{sha}",
                    sender_unit=self.config.sender_unit,
                )
            # the consumer has deposited every report of this file: now it is taken
            self._mark(rel, sha, seen)
            taken.add((rel, sha))

    def _root(self) -> Any:
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(self.config.url, conn_id=self.config.conn_id or None)

    def _files(self) -> list[tuple[str, Any]]:
        """(path relative to the location, path) of every report-like file, sorted."""
        wanted = (*REPORT_SUFFIXES, ".zip")
        try:
            root = self._root()
            if not root.is_dir():  # an unmounted share lists as empty: say it instead
                raise FileNotFoundError(f"{self.config.url} is not there (not mounted?)")
            found = [
                (p.relative_to(root).as_posix(), p)
                for p in root.rglob("*")
                if p.suffix.lower() in wanted and p.is_file()
            ]
        except Exception as exc:  # fsspec backends raise their own types for "cannot reach"
            raise self._unavailable(exc) from exc
        return sorted(found, key=lambda f: f[0])

    @staticmethod
    def _modified(path: Any) -> datetime | None:
        info = path.fs.info(path.path)  # fsspec's dict: each backend names it its own way
        for key in ("LastModified", "mtime", "updated", "last_modified"):
            value = info.get(key)
            if value is None:
                continue
            stamp = (
                pd.Timestamp(value, unit="s")
                if isinstance(value, (int, float))
                else pd.Timestamp(value)
            )
            return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).to_pydatetime()
        return None

    def _taken(self) -> set[tuple[str, str]]:
        if not self.book.exists():
            return set()
        with self.book.open(encoding="utf-8") as fh:
            return {
                (r["path"], r["sha256"]) for line in fh if line.strip() for r in [json.loads(line)]
            }

    def _mark(self, rel: str, sha: str, at: datetime) -> None:
        self.book.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"path": rel, "sha256": sha, "taken_at": receipts.iso_utc(pd.Timestamp(at))},
            ensure_ascii=False,
        )
        with self.book.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        where = self.config.url
        return StoreUnavailable(
            f"共享位置“{self.config.name}”（{where}）无法读取：{exc}。未取走的文件下次收取时会再取"
            f" / store {self.config.name} ({where}) could not be read: {exc}. Files not taken "
            "are taken by the next pull"
        )
