"""Ingest one day's inbox: keep every file, read each once, account for every row.

Rules that make re-runs and audits boring:

* Every file gets a ledger row, even editor lock files (rejected, with the reason).
* Files are visited in a fixed order (by ``received_at`` = file mtime in UTC, then by
  path relative to the inbox), so the same inbox always gives the same result.
* Each file is copied to ``store_dir/<sha256>`` (content-addressed) before it is read, so
  what was read can always be shown again, whatever happens to the inbox.
* Identical bytes count once. The later copy gets a ledger row with status
  ``duplicate``, ``file_id = sha256 + ":" + source`` (ledger keys stay unique),
  ``duplicate_of = sha256`` of the kept copy and ``rows_received = 0``: its rows are not
  added to RECEIVED, so nothing is counted twice.
* A later file for the same (unit_code, period) supersedes the earlier one: the earlier
  rows stay in RECEIVED with ``disposition = 'superseded'`` and the later file's id, so a
  township batch followed by one village's correction replaces only that village's row.
  Rows within one file are never superseded here (validation quarantines duplicates).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from huizong import frames
from huizong.catalogue import Catalogue
from huizong.ingest.reader import (
    SUPPORTED_SUFFIXES,
    RawSubmission,
    SubmissionRejected,
    empty_received,
    parse_raw,
    read_raw,
)
from huizong.registry import Registry
from huizong.settings import Settings

_CHUNK = 1024 * 1024


@dataclass
class _Entry:
    path: Path
    source: str
    size: int
    received_at: pd.Timestamp
    sha256: str = ""
    file_id: str = ""
    status: str = "read"
    duplicate_of: str | None = None
    message: str = ""
    extra_columns: str = ""
    form: str = ""


def empty_ledger() -> pd.DataFrame:
    """LEDGER with no rows but the right columns and dtypes."""
    return _ledger_frame([])


def ingest_inbox(
    inbox: Path, day: date, catalogue: Catalogue, registry: Registry, settings: Settings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(RECEIVED, LEDGER) for every file under ``inbox``; empty frames if there is none.

    LEDGER statuses after ingest: ``read`` (rows in RECEIVED), ``superseded`` (all its
    rows replaced by later files), ``duplicate`` and ``rejected`` (no rows; see
    ``message``). ``rows_accepted``/``rows_quarantined`` are left 0 for validation.
    """
    inbox = Path(inbox)
    if not inbox.is_dir():
        return empty_received(catalogue), empty_ledger()
    entries = _scan(inbox)
    store = settings.store_dir
    store.mkdir(parents=True, exist_ok=True)
    seen: dict[str, str] = {}  # sha256 -> source of the kept copy
    raws: list[RawSubmission] = []
    for e in entries:
        if e.size > settings.max_file_bytes:
            e.sha256 = _sha256(e.path)
            e.status = "rejected"
            e.message = (
                f"文件过大（{e.size} 字节，上限 {settings.max_file_bytes} 字节），未读取 / "
                f"file too large ({e.size} bytes, limit {settings.max_file_bytes}); not read"
            )
        else:
            e.sha256 = _store(e.path, store)
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
        if e.status == "rejected":
            continue
        suffix = e.path.suffix.lower()
        if e.path.name.startswith((".", "~$")):
            e.status = "rejected"
            e.message = (
                "临时文件或隐藏文件（如Excel打开时生成的 ~$ 文件），不是报表 / "
                "temporary or hidden file (e.g. an Excel lock file), not a report"
            )
            continue
        if suffix not in SUPPORTED_SUFFIXES:
            e.status = "rejected"
            e.message = (
                f"不支持的文件类型 {suffix or '(无扩展名)'}，请使用 .xlsx 或 .csv / "
                f"unsupported file type {suffix or '(none)'}; use .xlsx or .csv"
            )
            continue
        try:
            raw = read_raw(
                store / e.sha256,
                catalogue,
                file_id=e.file_id,
                file_name=e.path.name,
                received_at=e.received_at,
                suffix=suffix,
            )
        except SubmissionRejected as exc:
            e.status = "rejected"
            e.message = exc.message
            continue
        e.form = raw.form
        e.extra_columns = ",".join(raw.extra_columns)
        if e.extra_columns:
            e.message = f"未识别的列已忽略：{e.extra_columns} / unknown columns ignored"
        raws.append(raw)
    received = parse_raw(raws, catalogue)
    received = _supersede(received, [e.file_id for e in entries])
    ledger = _ledger(entries, received, day, catalogue)
    return received, ledger


def _scan(inbox: Path) -> list[_Entry]:
    entries = []
    for path in sorted(p for p in inbox.rglob("*") if p.is_file()):
        st = path.stat()
        entries.append(
            _Entry(
                path=path,
                source=path.relative_to(inbox).as_posix(),
                size=st.st_size,
                received_at=pd.Timestamp(st.st_mtime_ns, unit="ns", tz="UTC").as_unit("us"),
            )
        )
    entries.sort(key=lambda e: (e.received_at, e.source))
    return entries


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _store(path: Path, store: Path) -> str:
    """Copy into the content-addressed store while hashing; return the sha256."""
    h = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=store, prefix=".incoming-")
    tmp = Path(tmp_name)
    try:
        with path.open("rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(_CHUNK):
                h.update(chunk)
                dst.write(chunk)
        digest = h.hexdigest()
        target = store / digest
        if target.exists():
            tmp.unlink()
        else:
            tmp.replace(target)
            shutil.copystat(path, target)
        return digest
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _supersede(received: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Mark rows of earlier files whose (unit_code, period) a later file reports again."""
    if received.empty:
        return received
    rank_of = {fid: i for i, fid in enumerate(order)}
    rank = received["file_id"].map(rank_of).astype("int64")
    key_ok = received["unit_code"].notna() & received["period"].notna()
    keyed = pd.DataFrame(
        {"unit_code": received["unit_code"], "period": received["period"], "rank": rank}
    )[key_ok]
    latest = keyed.groupby(["unit_code", "period"], sort=False)["rank"].transform("max")
    older = keyed.index[keyed["rank"] < latest]
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


def _ledger(
    entries: list[_Entry], received: pd.DataFrame, day: date, catalogue: Catalogue
) -> pd.DataFrame:
    tally = pd.DataFrame(
        {
            "file_id": received["file_id"],
            "superseded": received["disposition"] == "superseded",
            "unit_code": received["unit_code"],
        }
    )
    counts = tally.groupby("file_id", sort=False).agg(
        rows_received=("superseded", "size"),
        rows_superseded=("superseded", "sum"),
        units=("unit_code", "nunique"),
    )
    rows = []
    for e in entries:
        got = counts.loc[e.file_id] if e.file_id in counts.index else None
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
                "file_name": e.path.name,
                "source": e.source,
                "size_bytes": e.size,
                "received_at": e.received_at,
                "form": e.form or catalogue.form,
                "units": int(got["units"]) if got is not None else 0,
                "rows_received": n,
                "rows_accepted": 0,
                "rows_quarantined": 0,
                "rows_superseded": sup,
                "status": status,
                "duplicate_of": e.duplicate_of,
                "extra_columns": e.extra_columns,
                "message": message,
            }
        )
    return _ledger_frame(rows)


_LEDGER_DTYPES = {
    "size_bytes": "int64",
    "units": "int64",
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
