"""The command office's mailbox over IMAP as a source: attachments of every message not yet taken.

Why the standard library's ``imaplib`` and not the Airflow IMAP provider: the provider's
hook downloads attachments by file-name pattern but gives neither the server's receipt
time (INTERNALDATE) nor the message's UID, and cannot set a keyword on exactly the
message whose files were stored; those three are what make mail evidence. ``imaplib``
does all of it, runs the same in the CLI and in a task, and adds no dependency. The
credentials still come from an Airflow connection (:mod:`huizong.intake.credentials`).

* Receipt time = the server's INTERNALDATE (when the message reached the mailbox), not
  the Date header a sender's client writes.
* "Not yet taken" = without the keyword ``$HuizongTaken`` (configurable). A message is
  marked, and optionally moved (``move_to``), only after every file of it has been
  deposited: :meth:`MailboxSource.arrivals` marks a message when the consumer asks for
  the next arrival. Nothing is ever deleted or expunged.
* Attachments taken: ``.xlsx``, ``.xls``, ``.csv``, and those inside a ``.zip`` (names
  written by Chinese Windows in GBK are decoded); a zip that is damaged or a bomb is
  deposited as it is, so the ledger rejects it with a reason. Other attachments
  (signature images) are not reports and are left.
* The same message twice (Message-ID) or the same attachment twice (sha256) counts once:
  the deposit keeps the same bytes through the mail channel once per day.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import imaplib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from huizong.ingest import receipts
from huizong.intake.arrivals import Arrival, SourceUnavailable

TAKEN_FLAG = "$HuizongTaken"
REPORT_SUFFIXES = (".xlsx", ".xls", ".csv")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


class MailboxUnavailable(SourceUnavailable):
    """The mailbox could not be read; nothing was lost (unmarked messages are taken next time)."""


@dataclass(frozen=True)
class MailboxConfig:
    """One mailbox of the sources file (credentials are in the connection, never here)."""

    name: str
    conn_id: str
    folder: str = "INBOX"
    taken_flag: str = TAKEN_FLAG
    move_to: str = ""
    #: sender address (lower case) → unit code, for deployments that list their senders
    senders: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str
    ssl: bool

    @classmethod
    def from_uri(cls, uri: str) -> Server:
        """``imap://user:password@host:port`` or ``imaps://…`` (user and password URL-quoted)."""
        parts = urlsplit(uri)
        ssl = parts.scheme in ("imaps", "imap+ssl") or "ssl=true" in parts.query.lower()
        if parts.scheme not in ("imap", "imaps", "imap+ssl") or not parts.hostname:
            raise ValueError(f"not an IMAP connection URI: {parts.scheme}://{parts.hostname}")
        return cls(
            host=parts.hostname,
            port=parts.port or (993 if ssl else 143),
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            ssl=ssl,
        )


@dataclass
class MailboxSource:
    """Arrivals from one IMAP folder; see the module docstring for the rules."""

    config: MailboxConfig
    server: Server
    channel: str = receipts.MAIL
    marked: list[str] = field(default_factory=list)  # Message-IDs marked in this pull

    def arrivals(self) -> Iterator[Arrival]:
        imap = self._connect()
        try:
            for uid in self._untaken(imap):
                internal, raw = self._fetch(imap, uid)
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                ref = str(msg.get("Message-ID", "") or "").strip() or f"uid:{uid}"
                sender = parseaddr(str(msg.get("From", "")))[1].lower()
                for name, data in attachments(msg):
                    yield Arrival(
                        data,
                        name,
                        internal,
                        self.channel,
                        sender=sender,
                        ref=ref,
                        sender_unit=self.config.senders.get(sender, ""),
                    )
                # the consumer has deposited every file of this message: now mark it
                self._mark(imap, uid)
                self.marked.append(ref)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise self._unavailable(exc) from exc
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                imap.logout()

    # ---- IMAP ------------------------------------------------------------------------

    def _connect(self) -> imaplib.IMAP4:
        s = self.server
        try:
            cls = imaplib.IMAP4_SSL if s.ssl else imaplib.IMAP4
            imap = cls(s.host, s.port, timeout=self.config.timeout_seconds)
            imap.login(s.user, s.password)
            typ, _ = imap.select(_quote(self.config.folder))
            if typ != "OK":
                raise imaplib.IMAP4.error(f"cannot select folder {self.config.folder}")
            return imap
        except (OSError, imaplib.IMAP4.error) as exc:  # timeouts are OSErrors
            raise self._unavailable(exc) from exc

    def _untaken(self, imap: imaplib.IMAP4) -> list[bytes]:
        typ, data = imap.uid("SEARCH", None, "UNKEYWORD", self.config.taken_flag, "UNDELETED")
        _ok(typ, data, "SEARCH")
        return sorted((data[0] or b"").split(), key=int)

    def _fetch(self, imap: imaplib.IMAP4, uid: bytes) -> tuple[datetime, bytes]:
        # BODY.PEEK: reading must not mark the message \Seen for the people who use the box
        typ, data = imap.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
        _ok(typ, data, "FETCH")
        for item in data:
            if isinstance(item, tuple):
                found = _INTERNALDATE.search(item[0])
                if found is None:
                    raise imaplib.IMAP4.error(f"no INTERNALDATE for UID {uid!r}")
                return _internaldate(found.group(1).decode()), item[1]
        raise imaplib.IMAP4.error(f"message UID {uid!r} not returned")

    def _mark(self, imap: imaplib.IMAP4, uid: bytes) -> None:
        typ, data = imap.uid("STORE", uid, "+FLAGS.SILENT", f"({self.config.taken_flag})")
        _ok(typ, data, "STORE")
        if self.config.move_to:
            typ, data = imap.uid("MOVE", uid, _quote(self.config.move_to))
            _ok(typ, data, "MOVE")

    def _unavailable(self, exc: BaseException) -> MailboxUnavailable:
        where = f"{self.server.host}:{self.server.port}/{self.config.folder}"
        return MailboxUnavailable(
            f"邮箱“{self.config.name}”（{where}）无法读取：{exc}。未取走的邮件没有标记，"
            f"下次收取时会再取 / mailbox {self.config.name} ({where}) could not be read: "
            f"{exc}. Messages not taken were not marked; the next pull takes them"
        )


def attachments(msg: EmailMessage) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every report attachment, zips opened; other attachments left."""
    for part in msg.iter_attachments():
        yield from report_files(part.get_filename() or "", part.get_payload(decode=True) or b"")


def report_files(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of the reports one received file holds: itself if it is a report
    (.xlsx/.xls/.csv), its report members if it is a zip, nothing otherwise."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in REPORT_SUFFIXES:
        yield name, data
    elif suffix == ".zip":
        yield from _zip_members(name, data)


def _zip_members(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """Report files inside a zip; the zip itself when it cannot be opened safely."""
    from huizong.ingest.safety import Limits, check_zip

    try:
        check_zip(io.BytesIO(data), Limits.from_env(), name)  # type: ignore[arg-type]
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [
                (_member_name(i), zf.read(i))
                for i in zf.infolist()
                if not i.is_dir()
                and PurePosixPath(_member_name(i)).suffix.lower() in REPORT_SUFFIXES
            ]
    except Exception:  # damaged, encrypted or a bomb: let the ledger reject it with a reason
        yield name, data
        return
    yield from members


def _member_name(info: zipfile.ZipInfo) -> str:
    """Zip names without the UTF-8 flag are bytes in the writer's code page (GBK in China)."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _internaldate(text: str) -> datetime:
    return datetime.strptime(text, "%d-%b-%Y %H:%M:%S %z")


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(typ: str, data: list, what: str) -> None:
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{what} failed: {data!r}")
