"""The receipt (回执) of a submission: what arrived, what was accepted, what was quarantined
and why, and the deadline — plain bilingual text, for the upload page and for mail.

The receipt reads the same step files the night writes (the accounted ledger and the
quarantine), so what a clerk is told is exactly what the night did with the file.
Replying by mail is off by default (``[notify] mail_receipts = true`` in the sources file
turns it on; the SMTP connection of the notifier is used).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd

from huizong.ingest import receipts
from huizong.intake.notify import Notifier
from huizong.settings import TIMEZONE, Settings

if TYPE_CHECKING:
    from huizong.catalogue import Catalogue
    from huizong.registry import Registry

STATUS_TEXT = {
    "accepted": ("已接收，全部数据通过校验", "received; every row passed the checks"),
    "partly_quarantined": (
        "已接收，部分数据未通过校验（已隔离，请更正后重报）",
        "received; some rows failed the checks (quarantined: correct and resend them)",
    ),
    "quarantined": (
        "已接收，但数据均未通过校验（已隔离，请更正后重报）",
        "received, but no row passed the checks (quarantined: correct and resend)",
    ),
    "superseded": ("已被同一单位更晚报送的文件取代", "replaced by a later file for the same units"),
    "duplicate": ("与已收到的文件内容相同，只计一次", "same content as a file already received"),
    "rejected": ("未能读取，请按原因处理后重报", "could not be read: see why, fix and resend"),
    "read": ("已接收，尚未校验", "received, not yet checked"),
}
_MAX_LISTED = 50


def receipt_text(
    files: pd.DataFrame,
    quarantine: pd.DataFrame,
    day: date,
    deadlines: Mapping[str, time],
    *,
    catalogue: Catalogue,
    departments: Iterable[str] = (),
    now: datetime | None = None,
) -> str:
    """The receipt for the ledger rows ``files`` (accounted), with each quarantined row's
    row, column (``中文(code)`` of the form's ``catalogue``, as ``huizong validate`` names
    it: required, since a receipt that cannot name the indicators would print bare codes)
    and reason in Chinese and English, and the deadline.

    Each file is judged on its own, by the deadline of its level (:func:`receipt_levels`)
    and :func:`huizong.schedule.on_time`: what the upload page and the night's on-time
    count say of it, even when one sender's files are of different levels."""
    from huizong.ingest.headers import column_labels
    from huizong.schedule import deadline_at, on_time

    headers = column_labels(catalogue)
    tz = ZoneInfo(TIMEZONE)
    levels = receipt_levels(files, departments)
    level_of = files["file_id"].astype("str").map(levels)
    timely = on_time(files["received_at"], level_of, day, deadlines)
    due = [deadline_at(day, lv, deadlines) for lv in level_of]
    several = len(set(due)) > 1

    def local(at: datetime) -> str:
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    lines = ["【汇总 回执 / Huizong receipt】", ""]
    for i, (_, f) in enumerate(files.iterrows()):
        at = pd.Timestamp(f["received_at"]).tz_convert(tz)
        zh, en = STATUS_TEXT.get(str(f["status"]), (str(f["status"]), str(f["status"])))
        lines += [
            f"文件 / file: {f['file_name']}",
            f"  收到时间 / received: {at.strftime('%Y-%m-%d %H:%M:%S')}"
            + ("（按时 / on time）" if timely[i] else "（晚于截止时间 / after the deadline）"),
        ]
        if several:
            lines.append(f"  截止时间 / deadline: {local(due[i])}")
        lines += [
            f"  结果 / result: {zh} / {en}",
            f"  数据行 / rows: 收到 received {int(f['rows_received'])}，"
            f"通过 accepted {int(f['rows_accepted'])}，"
            f"隔离 quarantined {int(f['rows_quarantined'])}，"
            f"被取代 superseded {int(f['rows_superseded'])}",
        ]
        if str(f.get("message") or "").strip():
            lines.append(f"  说明 / note: {f['message']}")
        mine = quarantine[quarantine["file_id"] == f["file_id"]]
        for _, q in mine.head(_MAX_LISTED).iterrows():
            where = f"第{int(q['row_number'])}行 row {int(q['row_number'])}"
            if pd.notna(q.get("column")) and str(q["column"]):
                where += f"，列 column {headers.get(q['column'], q['column'])}"
            if str(q.get("sheet") or ""):
                where = f"工作表 sheet {q['sheet']}，" + where
            lines.append(f"  - {where}：{q['message_zh']} / {q['message_en']}")
        if len(mine) > _MAX_LISTED:
            lines.append(
                f"  … 另有 {len(mine) - _MAX_LISTED} 个问题 / {len(mine) - _MAX_LISTED} more"
            )
        lines.append("")
    now = now or datetime.now(tz)
    for deadline in sorted(set(due)):
        if now <= deadline:
            lines.append(
                f"报送截止时间 / deadline: {local(deadline)}。截止前可更正后重新报送，"
                "以最后一次为准 / you may correct and send again before it; the last "
                "submission counts."
            )
        else:
            lines.append(
                f"报送截止时间 / deadline: {local(deadline)}（已过 / passed）。更正仍会被接收，"
                "但计为迟报 / corrections are still taken, counted as late."
            )
    return "\n".join(lines) + "\n"


def receipt_levels(files: pd.DataFrame, departments: Iterable[str] = ()) -> dict[str, str]:
    """file_id → whose deadline the file is judged by: the night's
    :func:`huizong.schedule.ledger_levels` of its units, or of its sender's unit when no
    unit could be read from it (a rejected file)."""
    from huizong.schedule import ledger_levels

    index = files.index
    units = files.get("units", pd.Series("", index=index)).fillna("").astype("str")
    sender = files.get("sender_unit", pd.Series("", index=index)).fillna("").astype("str")
    judged = pd.DataFrame(
        {"file_id": files["file_id"].astype("str"), "units": units.where(units != "", sender)}
    )
    return ledger_levels(judged, departments)


def department_codes(registry: Registry | None) -> set[str]:
    if registry is None:
        return set()
    return set(registry.reporters.loc[registry.reporters["kind"] == "department", "code"])


def upload_receipt(
    deposited: Path, day: date, settings: Settings, *, now: datetime | None = None
) -> str:
    """The receipt of one file just deposited in the day's inbox (the upload page's).

    The night's own steps — ingest (with the receipts: upload time, channel and sender),
    validation and row accounting — run in a scratch inbox on that file and the day's
    files that arrived before it, so the clerk reads at once what the night will do with
    it: a file whose rows fail does not replace the unit's earlier accepted report (the
    receipt says so per unit), and a later upload for the same units supersedes it then."""
    from huizong.catalogue import load_catalogue
    from huizong.ingest import ingest_inbox
    from huizong.intake.config import deadlines_of
    from huizong.registry.loaded import registry_for
    from huizong.validate import account, validate_received

    inbox = settings.inbox_for(day)
    source = deposited.relative_to(inbox).as_posix()
    book = receipts.read_book(receipts.book_path(inbox))
    receipt = next(r for (src, _), r in book.items() if src == source)
    catalogue = load_catalogue(settings.form)
    registry = registry_for(settings)
    with tempfile.TemporaryDirectory(prefix="huizong-receipt-") as tmp:
        scratch = Path(tmp) / day.isoformat()
        kept = [receipt, *_earlier_files(inbox, book, receipt)]
        for r in kept:
            copy = scratch / r.source
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(inbox / r.source, copy)
        receipts.append(receipts.book_path(scratch), kept)
        received, ledger, _ = ingest_inbox(scratch, day, catalogue, registry, settings)
    result = validate_received(received, day, catalogue, registry, settings)
    ledger = account(ledger, received, result)
    ledger = ledger[ledger["source"] == source].reset_index(drop=True)
    return receipt_text(
        ledger,
        result.quarantine,
        day,
        deadlines_of(settings),
        departments=department_codes(registry),
        now=now,
        catalogue=catalogue,
    )


def _earlier_files(
    inbox: Path, book: dict[tuple[str, str], receipts.Receipt], receipt: receipts.Receipt
) -> list[receipts.Receipt]:
    """The receipts of the day's other files that arrived no later than ``receipt`` and are
    still in the inbox with the bytes their receipt names (what the night will weigh the
    new file against)."""
    import hashlib

    out = []
    for (src, sha), r in sorted(book.items()):
        if src == receipt.source or r.timestamp > receipt.timestamp:
            continue
        path = inbox / src
        if path.is_symlink() or not path.is_file():
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest() == sha:
            out.append(r)
    return out


def mail_receipts(day: date, settings: Settings, notifier: Notifier) -> dict[str, Any]:
    """After validation: one receipt per mail sender for the files they sent that day."""
    from huizong import frames, handover
    from huizong.catalogue import load_catalogue
    from huizong.intake.config import deadlines_of
    from huizong.registry.loaded import registry_for

    deadlines = deadlines_of(settings)
    registry = registry_for(settings)
    departments = department_codes(registry)
    catalogue = load_catalogue(settings.form)
    ledger = handover.read_frame(settings, day, frames.ACCOUNTED_LEDGER)
    quarantine = handover.read_frame(settings, day, frames.QUARANTINE)
    if "channel" not in ledger.columns:
        return {"sent": []}
    mailed = ledger[(ledger["channel"] == "mail") & (ledger["sender"].fillna("") != "")]
    sent = []
    for sender, files in mailed.groupby("sender", sort=True):
        subject = f"【汇总】{day.isoformat()} 报表回执 / receipt of your report"
        text = receipt_text(
            files, quarantine, day, deadlines, departments=departments, catalogue=catalogue
        )
        notifier.send(str(sender), subject, text)
        sent.append(str(sender))
    return {"sent": sent}


def mail_receipts_if_on(day: date, settings: Settings, *, in_task: bool = False) -> dict:
    """The night's ``mail_receipts`` task: nothing unless the sources file turns it on."""
    from huizong.intake.config import load_sources
    from huizong.intake.credentials import connection_uri
    from huizong.intake.notify import SmtpNotifier

    config = load_sources(settings.sources)
    if not config.mail_receipts:
        return {"sent": [], "off": True}
    uri = connection_uri(config.smtp_conn_id, in_task=in_task)
    return mail_receipts(day, settings, SmtpNotifier.from_uri(uri, sender=config.mail_from))
