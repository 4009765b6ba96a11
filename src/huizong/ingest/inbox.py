"""Ingest one day's inbox: keep every file, read each once, account for every row.

Rules that make re-runs and audits boring:

* Every file gets a ledger row, even editor lock files (rejected, with the reason).
* ``received_at`` is when the file *arrived*, from the day's receipt book
  (:mod:`huizong.ingest.receipts`): the mail server's receipt time, the upload time, or,
  for a file put in the folder by hand, the moment the ledger first saw it (recorded, so
  a re-run keeps it). Never the file's mtime, which any copy tool keeps or changes.
  A row's ``received_at`` is the same, except in a steward's correction: its rows keep
  the time of the reporter's submission it revises (the book's ``reported_at``), so a
  correction never changes whether the unit reported on time.
* Files are visited in a fixed order (by ``received_at``, then mtime, then path relative
  to the inbox), so the same inbox always gives the same result. The mtime only orders
  files first seen in the same scan (a township batch and its correction copied in
  together); it never decides whether a report was on time.
* Each file is copied to ``store_dir/<sha256>`` (content-addressed) before it is read, so
  what was read can always be shown again, whatever happens to the inbox; the hand-over
  (:mod:`huizong.handover`) keeps it where every worker and the review page reach it.
* Identical bytes count once. The later copy gets a ledger row with status
  ``duplicate``, ``file_id = sha256 + ":" + source`` (ledger keys stay unique),
  ``duplicate_of = sha256`` of the kept copy and ``rows_received = 0``: its rows are not
  added to RECEIVED, so nothing is counted twice.
* A later file for the same (unit_code, period) supersedes the earlier one: the earlier
  rows stay in RECEIVED with ``disposition = 'superseded'`` and the later file's id, so a
  township batch followed by one village's correction replaces only that village's row.
  Rows within one file are never superseded here (validation quarantines duplicates).
  Two files for the same unit and date that landed at the *same* instant cannot be
  ordered by time: neither supersedes the other, so validation quarantines both rows
  (``unique_unit_day``, naming both files) instead of guessing from the file names.
* Nothing is read through a link: symbolic links in the inbox (they may point anywhere)
  and other non-regular files get a ledger row, status ``rejected``, and are never opened.
* A file's name is display only: the store path is ``store_dir/<sha256>``, whatever the
  name says (spaces, Chinese, leading dots, ``..``), so nothing is written outside it.
* What a file *is* comes from its bytes (:mod:`huizong.ingest.safety`): an ``.xlsx`` that
  is CSV text is read as CSV with a ledger note; empty, HTML, old ``.xls``, damaged and
  bomb-like workbooks are rejected with a message the clerk can act on.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from huizong import frames, handover
from huizong.catalogue import Catalogue
from huizong.ingest import receipts
from huizong.ingest.reader import file_bytes, read_raw
from huizong.ingest.received import empty_received, parse_raw
from huizong.ingest.rejected import SubmissionRejected
from huizong.ingest.rows import RawSubmission
from huizong.ingest.safety import SNIFFED_SUFFIXES, sniff
from huizong.registry import Registry
from huizong.settings import Settings

_CHUNK = 1024 * 1024
#: Files that editors and file managers leave beside real reports (never reports).
_JUNK_PREFIXES = ("~$", ".~lock.", "._")
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass
class Entry:
    path: Path
    source: str
    size: int
    mtime: pd.Timestamp
    kind: str = "file"  # file | symlink | special
    received_at: pd.Timestamp | None = None  # from the receipt book
    reported_at: pd.Timestamp | None = None  # its rows' time (a correction: the original's)
    channel: str = receipts.FOLDER
    sender: str = ""
    sender_unit: str = ""
    stored: bool = False
    sha256: str = ""
    file_id: str = ""
    status: str = "read"
    duplicate_of: str | None = None
    message: str = ""
    extra_columns: str = ""
    form: str = ""
    #: The name receipts were keyed by before names were decoded per path component
    #: (the whole path as one string), when it differs from ``source``: a receipt recorded
    #: under it still gives the file its first arrival.
    legacy_source: str | None = None


def empty_ledger() -> pd.DataFrame:
    """LEDGER with no rows but the right columns and dtypes."""
    return _ledger_frame([])


def ingest_inbox(
    inbox: Path, day: date, catalogue: Catalogue, registry: Registry, settings: Settings
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(RECEIVED, LEDGER, TOTALS) for every file under ``inbox``; empty frames if none.

    TOTALS holds the townships' own total rows (合计) found in batch files: they are not
    reports (not in RECEIVED, not counted in ``rows_received``) but evidence stewards
    compare with the sum of the villages.

    LEDGER statuses after ingest: ``read`` (rows in RECEIVED), ``superseded`` (all its
    rows replaced by later files), ``duplicate`` and ``rejected`` (no rows; see
    ``message``). ``rows_accepted``/``rows_quarantined`` are left 0 for validation.

    The three stages — :func:`plan_inbox`, :func:`read_entries`, :func:`settle` — are what
    the partitioned DAG runs as separate tasks (the reads mapped over partitions).
    """
    inbox = Path(inbox)
    if not inbox.is_dir():
        return empty_received(catalogue), empty_ledger(), empty_received(catalogue)
    entries = plan_inbox(inbox, settings)
    received, totals = read_entries(entries, settings, catalogue)
    received, ledger = settle(entries, received, day, catalogue)
    return received, ledger, totals


def plan_inbox(inbox: Path, settings: Settings) -> list[Entry]:
    """Every file of the inbox stored, timed and de-duplicated, in the fixed visiting
    order; the files still to read are those :func:`to_read` selects."""
    entries = _scan(Path(inbox))
    store_entries(entries, Path(inbox), settings)
    seen: dict[str, str] = {}  # sha256 -> source of the kept copy
    for e in entries:
        if not e.stored:
            continue
        if e.sha256 in seen:
            e.file_id = f"{e.sha256}:{e.source}"
            e.status = "duplicate"
            e.duplicate_of = e.sha256
            e.message = (
                f"与文件 {seen[e.sha256]} 内容相同，只计一次 / "
                f"same content as {seen[e.sha256]}; counted once"
            )
            continue
        seen[e.sha256] = e.source
        e.file_id = e.sha256
    return entries


def store_entries(entries: list[Entry], inbox: Path, settings: Settings) -> None:
    """Copy each entry into the content-addressed store, time it from the receipt book
    and sort the entries in the fixed visiting order. A file that cannot be opened any
    more is rejected (``file_id`` ``unreadable:…``); a store failure is a fault."""
    store = settings.store_dir
    store.mkdir(parents=True, exist_ok=True)
    for e in entries:
        if _refuse_unread(e, settings):
            continue
        try:
            source_fd = _open_no_follow(e.path)
        except OSError as exc:  # removed, unreadable, or replaced by a link since the scan
            e.file_id = f"{UNREADABLE}{e.source}"
            e.status = "rejected"
            e.message = f"无法读取文件：{exc.strerror} / cannot read the file: {exc.strerror}"
            continue
        e.sha256 = _store(source_fd, e.path, store)
        handover.keep_stored(settings, e.sha256)  # every worker and the review page reach it
        e.stored = True
    _stamp_receipts(entries, receipts.book_path(inbox))
    entries.sort(key=lambda e: (e.received_at, e.mtime, e.source))


UNREADABLE = "unreadable:"  # file_id prefix of a file gone or unreadable since the scan


def to_read(e: Entry) -> bool:
    """A stored file kept once (not a duplicate, not refused): its rows are read."""
    return e.stored and e.status == "read" and e.file_id == e.sha256


def read_entries(
    entries: list[Entry], settings: Settings, catalogue: Catalogue
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(RECEIVED rows before supersession, TOTALS) of the entries :func:`to_read`, in
    their order; fills each entry's status, message, form and extra columns. The stored
    copy comes through the hand-over when this worker has not got it."""
    raws: list[RawSubmission] = []
    totals: list[RawSubmission] = []
    for e in entries:
        if not to_read(e):
            continue
        stored = handover.fetch_stored(settings, e.sha256) or settings.store_dir / e.sha256
        raw = _read_one(e, stored, catalogue)
        if raw is not None:
            raws.append(raw)
            if raw.totals is not None:
                totals.append(raw.totals)
    return parse_raw(raws, catalogue), parse_raw(totals, catalogue)


def settle(
    entries: list[Entry], received: pd.DataFrame, day: date, catalogue: Catalogue
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Later files supersede earlier ones; every entry gets its ledger row."""
    received = _supersede(received, [e.file_id for e in entries], _arrival_ranks(entries))
    return received, _ledger(entries, received, day, catalogue)


def _stamp_receipts(entries: list[Entry], book: Path) -> None:
    """Give every entry its arrival from the book; record first sight of the new ones."""
    known = receipts.read_book(book)
    now = receipts.iso_utc(pd.Timestamp.now(tz="UTC"))
    new = []
    for e in entries:
        r = known.get((e.source, e.sha256))
        if r is None and e.legacy_source is not None:
            r = known.get((e.legacy_source, e.sha256))
            if r is not None:  # re-keyed under today's name, the arrival kept
                r = replace(r, source=e.source)
                new.append(r)
        if r is None:
            r = receipts.Receipt(
                source=e.source, sha256=e.sha256, received_at=now, channel=_channel_of(e.source)
            )
            new.append(r)
        e.received_at, e.reported_at, e.channel, e.sender, e.sender_unit = (
            r.timestamp,
            r.reported,
            r.channel,
            r.sender,
            r.sender_unit,
        )
    receipts.append(book, new)


def _channel_of(source: str) -> str:
    """Files found without a receipt: the review app's corrections, else the folder."""
    return receipts.REVIEW if source.startswith("_corrections/") else receipts.FOLDER


def _arrival_ranks(entries: list[Entry]) -> dict[str, int]:
    """file_id -> rank of arrival (entries sorted); equal (received_at, mtime), equal rank."""
    ranks, last, rank = {}, None, -1
    for e in entries:
        if (e.received_at, e.mtime) != last:
            rank, last = rank + 1, (e.received_at, e.mtime)
        ranks[e.file_id] = rank
    return ranks


def display_name(name: str) -> str:
    """A file name as text for the ledger and messages (display only, never a path).

    Names that are not UTF-8 (typically GBK names from a zip unpacked on Linux) arrive as
    surrogate escapes that parquet and PostgreSQL refuse: decode the raw bytes as UTF-8,
    else GB18030, else with replacement characters — one path component at a time, so a
    GBK file in a UTF-8 folder keeps both readable (the byte ``/`` occurs inside no GBK
    or GB18030 character).
    """
    raw = os.fsencode(name)
    if b"/" in raw:
        return "/".join(display_name(os.fsdecode(part)) for part in raw.split(b"/"))
    return _whole_name(raw)


def _whole_name(raw: bytes) -> str:
    """Bytes decoded as one string (what receipts were keyed by before per-component)."""
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def _refuse_unread(e: Entry, settings: Settings) -> bool:
    """Reject what must not be opened or stored (links, special, empty, too large)."""
    if e.kind != "file":
        e.file_id = f"{e.kind}:{e.source}"  # never read, so no content hash
        e.status = "rejected"
        e.message = (
            "不读取链接文件（符号链接可能指向收件箱以外），请上传文件本身 / "
            "links are not read (a symbolic link may point outside the inbox); "
            "upload the file itself"
            if e.kind == "symlink"
            else "不是普通文件（设备、管道等），未读取 / not a regular file; not read"
        )
        return True
    if e.size == 0:
        e.sha256 = _EMPTY_SHA256
        e.file_id = f"{_EMPTY_SHA256}:{e.source}"  # every empty file gets its own row
        e.status = "rejected"
        e.message = "空文件（0字节），请重新导出后上报 / empty file (0 bytes); export it again"
        return True
    if e.size > settings.max_file_bytes:
        e.sha256 = _sha256(e.path)
        e.file_id = e.sha256
        e.status = "rejected"
        e.message = (
            f"文件过大（{e.size} 字节，上限 {settings.max_file_bytes} 字节），未读取 / "
            f"file too large ({e.size} bytes, limit {settings.max_file_bytes}); not read"
        )
        return True
    return False


def _read_one(e: Entry, stored: Path, catalogue: Catalogue) -> RawSubmission | None:
    """Read one stored file; fill the entry's status/message; None when rejected."""
    name = display_name(e.path.name)
    suffix = e.path.suffix.lower()
    if name.startswith(_JUNK_PREFIXES) or name.lower() in _JUNK_NAMES:
        e.status = "rejected"
        e.message = (
            "临时文件或系统文件（如Excel打开时生成的 ~$ 文件），不是报表 / "
            "temporary or system file (e.g. an Excel lock file), not a report"
        )
        return None
    if suffix not in SNIFFED_SUFFIXES:
        e.status = "rejected"
        e.message = (
            f"不支持的文件类型 {suffix or '(无扩展名)'}，请使用 .xlsx 或 .csv / "
            f"unsupported file type {suffix or '(none)'}; use .xlsx or .csv"
        )
        return None
    notes = []
    try:
        data = file_bytes(stored)  # read once: sniffed, checked and parsed from memory
        found = sniff(stored, suffix, data=data)
        raw = read_raw(
            stored,
            catalogue,
            file_id=e.file_id,
            file_name=name,
            received_at=e.reported_at if e.reported_at is not None else e.received_at,
            suffix=suffix,
            data=data,
        )
    except SubmissionRejected as exc:
        e.status = "rejected"
        e.message = exc.message
        return None
    if found.note:
        notes.append(found.note)
    notes.extend(getattr(raw, "notes", None) or [])  # the reader's: sheets skipped, encoding
    e.form = raw.form
    e.extra_columns = ",".join(raw.extra_columns)
    if e.extra_columns:
        notes.append(f"未识别的列已保留：{e.extra_columns} / unknown columns kept")
    e.message = "；".join(notes)
    return raw


def _scan(inbox: Path) -> list[Entry]:
    """Every entry under the inbox, without following links (lstat only).

    Plain ``os`` strings in the loop and the times converted at once: on a national inbox
    (39 k files) ``pathlib`` and one ``Timestamp`` per file cost most of the scan's 1.4 s."""
    found: list[tuple[str, str, int, int, str]] = []
    base = os.fspath(inbox)
    for top, dirs, files in os.walk(base, followlinks=False):
        rel = os.path.relpath(top, base)
        prefix = "" if rel == os.curdir else Path(rel).as_posix() + "/"
        names = sorted(files) + sorted(d for d in dirs if os.path.islink(os.path.join(top, d)))
        for name in names:
            full = os.path.join(top, name)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                kind = "symlink"
            elif stat.S_ISREG(st.st_mode):
                kind = "file"
            else:
                kind = "special"
            found.append((full, prefix + name, st.st_size, st.st_mtime_ns, kind))
    times = pd.to_datetime([f[3] for f in found], unit="ns", utc=True).as_unit("us")
    return [
        _entry(full, rel, size, mtime, kind)
        for (full, rel, size, _, kind), mtime in zip(found, times, strict=True)
    ]


def _entry(full: str, rel: str, size: int, mtime: pd.Timestamp, kind: str) -> Entry:
    source = display_name(rel)
    legacy = _whole_name(os.fsencode(rel)) if "/" in rel else source
    return Entry(
        path=Path(full),
        source=source,
        size=size,
        mtime=mtime,
        kind=kind,
        legacy_source=None if legacy == source else legacy,
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with os.fdopen(_open_no_follow(path), "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _open_no_follow(path: Path) -> int:
    """Open for reading, refusing a link swapped in after the scan (O_NOFOLLOW)."""
    return os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))


def _store(source_fd: int, path: Path, store: Path) -> str:
    """Copy the open file into the content-addressed store while hashing; its sha256."""
    h = hashlib.sha256()
    with os.fdopen(source_fd, "rb") as src:
        fd, tmp_name = tempfile.mkstemp(dir=store, prefix=".incoming-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as dst:
                while chunk := src.read(_CHUNK):
                    h.update(chunk)
                    dst.write(chunk)
            digest = h.hexdigest()
            target = store / digest
            if target.exists():
                tmp.unlink()
            else:
                tmp.replace(target)
                shutil.copystat(path, target, follow_symlinks=False)
            return digest
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def _supersede(received: pd.DataFrame, order: list[str], arrival: dict[str, int]) -> pd.DataFrame:
    """Mark rows of earlier files whose (unit_code, period) a later file reports again.

    "Later" is by arrival rank (``received_at``, then mtime within one scan); rows that
    share the latest arrival (one file's duplicate rows, or two files that landed at the
    same instant) all stay candidates, for validation to quarantine as duplicates: there
    is no basis to prefer either.
    """
    if received.empty:
        return received
    rank_of = {fid: i for i, fid in enumerate(order)}
    rank = received["file_id"].map(rank_of).astype("int64")
    key_ok = received["unit_code"].notna() & received["period"].notna()
    keyed = pd.DataFrame(
        {
            "unit_code": received["unit_code"],
            "period": received["period"],
            "rank": rank,
            "at": received["file_id"].map(arrival).astype("int64"),
        }
    )[key_ok]
    group = keyed.groupby(["unit_code", "period"], sort=False)
    latest = group["rank"].transform("max")
    older = keyed.index[keyed["at"] < group["at"].transform("max")]
    if len(older) == 0:
        return received
    ids = np.array(order, dtype=object)
    by = pd.Series(ids[latest.loc[older].to_numpy()], index=older, dtype="str")
    name_of = received.drop_duplicates("file_id").set_index("file_id")["file_name"]
    later = by.map(name_of).astype("str")
    received = received.copy()
    received.loc[older, "disposition"] = "superseded"
    received.loc[older, "superseded_by"] = by
    received.loc[older, "superseded_reason"] = (
        "同一单位同一日期有更晚提交的文件 " + later + "，以后者为准 / "
        "a later file for the same unit and date (" + later + ") replaces this row"
    )
    return received


def _unit_lists(received: pd.DataFrame) -> pd.Series:
    """Per file_id: its distinct unit codes, sorted, comma-separated (what review scopes
    on); one pass over the day, not a Python function per file."""
    codes = received["unit_code"].dropna().astype("str").str.strip()
    keyed = pd.DataFrame({"file_id": received.loc[codes.index, "file_id"], "code": codes})
    keyed = keyed[keyed["code"] != ""].drop_duplicates().sort_values(["file_id", "code"])
    return keyed.groupby("file_id", sort=False)["code"].agg(",".join)


def _ledger(
    entries: list[Entry], received: pd.DataFrame, day: date, catalogue: Catalogue
) -> pd.DataFrame:
    tally = pd.DataFrame(
        {
            "file_id": received["file_id"],
            "superseded": received["disposition"] == "superseded",
        }
    )
    counts = tally.groupby("file_id", sort=False).agg(
        rows_received=("superseded", "size"),
        rows_superseded=("superseded", "sum"),
    )
    counts["units"] = _unit_lists(received).reindex(counts.index, fill_value="")
    by_file = counts.to_dict("index")
    rows = []
    for e in entries:
        got = by_file.get(e.file_id)
        n = int(got["rows_received"]) if got is not None else 0
        sup = int(got["rows_superseded"]) if got is not None else 0
        status = e.status
        if status == "read" and n and sup == n:
            status = "superseded"
        message = e.message
        if status == "read" and n == 0:
            message = (message + "；" if message else "") + "文件中没有数据行 / no data rows"
        rows.append(
            {
                "period": day.isoformat(),
                "file_id": e.file_id,
                "file_name": display_name(e.path.name),
                "source": e.source,
                "size_bytes": e.size,
                "received_at": e.received_at,
                "form": e.form or catalogue.form,
                "units": got["units"] if got is not None else "",
                "rows_received": n,
                "rows_accepted": 0,
                "rows_quarantined": 0,
                "rows_superseded": sup,
                "status": status,
                "duplicate_of": e.duplicate_of,
                "extra_columns": e.extra_columns,
                "message": message,
                "channel": e.channel,
                "sender": e.sender,
                "sender_unit": e.sender_unit,
            }
        )
    return _ledger_frame(rows)


_LEDGER_DTYPES = {
    "size_bytes": "int64",
    "units": "str",
    "rows_received": "int64",
    "rows_accepted": "int64",
    "rows_quarantined": "int64",
    "rows_superseded": "int64",
    "received_at": "datetime64[us, UTC]",
}


def _ledger_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=frames.LEDGER_COLUMNS)
    for col in frames.LEDGER_COLUMNS:
        frame[col] = frame[col].astype(_LEDGER_DTYPES.get(col, "str"))
    return frame
