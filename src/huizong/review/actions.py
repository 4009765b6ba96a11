"""Stewards' actions: accept, correct, reject, mark reviewed, keep this row — each scoped
and audited.

Every action checks the steward's scope before anything else is written, and writes
exactly one ``review_action`` row (who, when, what, old and new value, why) in the same
transaction as its other effect. A correction never edits the original file: it writes a
new revision into the day's inbox (``_corrections/``), which the next run's supersession
prefers because it arrived later.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from huizong.catalogue import Catalogue, load_catalogue
from huizong.ingest import receipts
from huizong.review import queries, store
from huizong.review.original import original_row
from huizong.review.scopes import ScopeError, check_scope
from huizong.settings import Settings
from huizong.validate.waivers import KEEP, is_waivable

ACTIONS = ("accept", "correct", "reject", "mark_reviewed", "keep")
CORRECTIONS = "_corrections"
NOT_APPLICABLE = "不适用"
_SAFE_UNIT = re.compile(r"^[0-9A-Za-z]{1,40}$")  # unit codes become part of a file name

__all__ = [
    "ACTIONS",
    "ActionError",
    "NotFound",
    "OriginalUnavailable",
    "ScopeError",
    "accept",
    "correct",
    "keep",
    "mark_reviewed",
    "reject",
]


class ActionError(ValueError):
    """The request is malformed (HTTP 400)."""


class NotFound(LookupError):
    """No such row or issue for that day (HTTP 404)."""


class OriginalUnavailable(RuntimeError):
    """The row's original values cannot be found, so no revision can be built (HTTP 409)."""


@dataclass(frozen=True)
class RowRef:
    """A received row: the day it was published for and its key in RECEIVED."""

    period: str
    file_id: str
    sheet: str
    row_number: int

    @classmethod
    def of(cls, period: str | date, file_id: str, sheet: str | None, row_number: int) -> RowRef:
        return cls(store.period_text(period), str(file_id), sheet or "", int(row_number))


def _scopes(engine: Engine, username: str) -> tuple[str, ...]:
    if not username:
        raise ScopeError("没有用户 / no user")
    return store.scopes_for(engine, username)


def _row_issues(engine: Engine, ref: RowRef, username: str) -> pd.DataFrame:
    """The row's issues, after checking the steward may see its unit."""
    found = queries.row_issues(engine, ref.period, ref.file_id, ref.sheet, ref.row_number)
    if found.empty:
        raise NotFound(f"no issue for row {ref}")
    scopes = _scopes(engine, username)
    for code in found["unit_code"].drop_duplicates():
        check_scope(None if pd.isna(code) else str(code), scopes)
    return found


def _one_issue(engine: Engine, ref: RowRef, rule: str, severity: str, username: str) -> pd.Series:
    found = _row_issues(engine, ref, username)
    hit = found[(found["rule"] == rule) & (found["severity"] == severity)]
    if hit.empty:
        raise NotFound(f"no {severity} {rule!r} for row {ref}")
    return hit.iloc[0]


def _text(value: object) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _optional(text: str | None) -> str | None:
    return (text or "").strip() or None


def _required(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ActionError(f"{what} is required")
    return text


def _audit(
    conn: Connection,
    *,
    username: str,
    action: str,
    ref: RowRef,
    unit_code: str | None,
    column: str | None,
    rule: str | None,
    old_value: str | None,
    new_value: str | None,
    justification: str | None,
    at: str,
) -> dict[str, Any]:
    row = {
        "id": uuid.uuid4().hex,
        "at": at,
        "username": username,
        "action": action,
        "period": ref.period,
        "file_id": ref.file_id,
        "sheet": ref.sheet,
        "row_number": ref.row_number,
        "unit_code": unit_code,
        "column": column,
        "rule": rule,
        "old_value": old_value,
        "new_value": new_value,
        "justification": justification,
    }
    conn.execute(store.statement("insert_action"), row)
    return row


def _audit_as_is(
    conn: Connection,
    *,
    username: str,
    action: str,
    ref: RowRef,
    issue: pd.Series,
    rule: str,
    justification: str | None,
    at: str,
) -> dict[str, Any]:
    """Audit an action that leaves the issue's value as it is (old = new)."""
    value = _text(issue["value"])
    return _audit(
        conn,
        username=username,
        action=action,
        ref=ref,
        unit_code=_text(issue["unit_code"]),
        column=_text(issue["column"]),
        rule=rule,
        old_value=value,
        new_value=value,
        justification=justification,
        at=at,
    )


def accept(
    engine: Engine,
    settings: Settings,
    *,
    username: str,
    period: str | date,
    file_id: str,
    sheet: str,
    row_number: int,
    rule: str,
    justification: str,
) -> dict[str, Any]:
    """Accept a quarantined value as correct: a waiver (validation honours it) + audit row."""
    ref = RowRef.of(period, file_id, sheet, row_number)
    issue = _one_issue(engine, ref, rule, "error", username)
    if not is_waivable(rule):
        raise ActionError(
            f"{rule!r}：负数、非数字、身份或日期问题不能接受为正确，请更正或退回 / "
            f"{rule!r} is not about a value that can be accepted as correct (a negative, "
            "not a number, identity or date): correct the row or reject it"
        )
    why = _required(justification, "justification")
    at = store.now_utc()
    with engine.begin() as conn:
        _waive(conn, ref, rule, username, at, why)
        return _audit_as_is(
            conn,
            username=username,
            action="accept",
            ref=ref,
            issue=issue,
            rule=rule,
            justification=why,
            at=at,
        )


def _waive(conn: Connection, ref: RowRef, rule: str, username: str, at: str, why: str) -> None:
    conn.execute(
        store.statement("insert_waiver"),
        {
            "period": ref.period,
            "file_id": ref.file_id,
            "sheet": ref.sheet,
            "row_number": ref.row_number,
            "rule": rule,
            "username": username,
            "at": at,
            "justification": why,
        },
    )


def _row_label(rec: Any) -> str:
    sheet = f" {rec['sheet']}" if rec["sheet"] else ""
    return f"{rec['file_name']}{sheet} #{int(rec['row_number'])}"


def keep(
    engine: Engine,
    settings: Settings,
    *,
    username: str,
    period: str | date,
    file_id: str,
    sheet: str,
    row_number: int,
    justification: str,
) -> dict[str, Any]:
    """Resolve a duplicate by keeping this row: at the next run it is validated and
    published alone and the unit's other rows of the day are superseded.

    One waiver (rule ``unique_unit_day``) and one audit row, in one transaction; the audit
    names the kept row (new value) and the rows it supersedes (old value).
    """
    ref = RowRef.of(period, file_id, sheet, row_number)
    group = queries.duplicate_group(engine, ref.period, ref.file_id, ref.sheet, ref.row_number)
    if group.empty:
        raise NotFound(f"row {ref} is not quarantined as a duplicate")
    scopes = _scopes(engine, username)
    for code in group["unit_code"].drop_duplicates():
        check_scope(None if pd.isna(code) else str(code), scopes)
    why = _required(justification, "justification")
    mine = (
        (group["file_id"] == ref.file_id)
        & (group["sheet"] == ref.sheet)
        & (group["row_number"] == ref.row_number)
    )
    kept = group[mine].iloc[0]
    others = "; ".join(_row_label(r) for _, r in group[~mine].iterrows())
    at = store.now_utc()
    with engine.begin() as conn:
        _waive(conn, ref, KEEP, username, at, why)
        return _audit(
            conn,
            username=username,
            action="keep",
            ref=ref,
            unit_code=_text(kept["unit_code"]),
            column=None,
            rule=KEEP,
            old_value=f"superseded: {others}",
            new_value=f"kept: {_row_label(kept)}",
            justification=why,
            at=at,
        )


def mark_reviewed(
    engine: Engine,
    settings: Settings,
    *,
    username: str,
    period: str | date,
    file_id: str,
    sheet: str,
    row_number: int,
    rule: str,
    justification: str | None = None,
) -> dict[str, Any]:
    """Mark a warning as looked at (the value stays as published)."""
    ref = RowRef.of(period, file_id, sheet, row_number)
    issue = _one_issue(engine, ref, rule, "warning", username)
    with engine.begin() as conn:
        return _audit_as_is(
            conn,
            username=username,
            action="mark_reviewed",
            ref=ref,
            issue=issue,
            rule=rule,
            justification=_optional(justification),
            at=store.now_utc(),
        )


def reject(
    engine: Engine,
    settings: Settings,
    *,
    username: str,
    period: str | date,
    file_id: str,
    sheet: str,
    row_number: int,
    justification: str,
) -> dict[str, Any]:
    """Reject the row and ask the unit to resubmit; the reason is what the unit is told."""
    ref = RowRef.of(period, file_id, sheet, row_number)
    found = _row_issues(engine, ref, username)
    why = _required(justification, "reason")
    first = found.iloc[0]
    with engine.begin() as conn:
        return _audit(
            conn,
            username=username,
            action="reject",
            ref=ref,
            unit_code=_text(first["unit_code"]),
            column=None,
            rule=None,
            old_value=None,
            new_value="resubmission requested",
            justification=why,
            at=store.now_utc(),
        )


# ---- corrections ------------------------------------------------------------------------


def correction_header(catalogue: Catalogue) -> list[str]:
    return ["unit_code", "unit_name", "period", *catalogue.codes]


def _cells(row: pd.Series, catalogue: Catalogue, period: str) -> dict[str, str]:
    """A RECEIVED row as the text cells of ``period``'s submission (blank = not reported)."""
    na = {c for c in str(_text(row.get("not_applicable")) or "").split(",") if c}
    cells = {}
    for col in correction_header(catalogue):
        value = row.get(col)
        if col in na:
            cells[col] = NOT_APPLICABLE
        else:
            cells[col] = _text(value) or ""
    cells["period"] = period
    return cells


def _corrections_folder(settings: Settings, ref: RowRef) -> Path:
    return settings.inbox_for(date.fromisoformat(ref.period)) / CORRECTIONS


def _latest_correction(folder: Path, unit: str, catalogue: Catalogue) -> dict[str, str] | None:
    """The cells of the newest correction already written for this unit today, if any."""
    if not folder.is_dir():
        return None
    mine = sorted(p for p in folder.glob(f"{unit}-*.csv") if p.name[len(unit) + 1 :][:1].isdigit())
    if not mine:
        return None
    with mine[-1].open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: (v or "") for k, v in rows[0].items()} if rows else None


def _base_cells(
    engine: Engine, settings: Settings, catalogue: Catalogue, ref: RowRef, issue: pd.Series
) -> dict[str, str]:
    unit = _text(issue["unit_code"]) or ""
    folder = _corrections_folder(settings, ref)
    earlier = _latest_correction(folder, unit, catalogue) if unit else None
    if earlier is not None:
        return {c: earlier.get(c, "") for c in correction_header(catalogue)}
    row = original_row(
        settings,
        catalogue,
        file_id=ref.file_id,
        file_name=_text(issue["file_name"]) or "",
        sheet=ref.sheet,
        row_number=ref.row_number,
    )
    if row is not None:
        return _cells(row, catalogue, ref.period)
    report = store.read_frame(
        engine, "select_report_unit", {"period": ref.period, "unit_code": unit}, table="report"
    )
    if len(report) and str(report.iloc[0].get("file_id")) == ref.file_id:
        return _cells(report.iloc[0], catalogue, ref.period)
    raise OriginalUnavailable(
        f"the original of row {ref} is neither in the store nor in the report table"
    )


def _reported_at(engine: Engine, inbox: Path, ref: RowRef) -> str:
    """When the report the corrected row came in counts as received: its file's time in
    the day's receipt book (a correction of a correction: the first report's), else the
    published ledger's; "" when neither knows (the re-run then times it by the book)."""
    known = receipts.reported_at_of(receipts.read_book(receipts.book_path(inbox)), ref.file_id)
    if known:
        return known
    ledger = store.read_frame(
        engine,
        "select_ledger_file",
        {"period": ref.period, "file_id": ref.file_id},
        table="submission_ledger",
    )
    if ledger.empty or pd.isna(ledger.iloc[0]["received_at"]):
        return ""
    at = pd.Timestamp(str(ledger.iloc[0]["received_at"]))
    return receipts.iso_utc(at if at.tzinfo else at.tz_localize("UTC"))


def correct(
    engine: Engine,
    settings: Settings,
    *,
    username: str,
    period: str | date,
    file_id: str,
    sheet: str,
    row_number: int,
    column: str,
    new_value: str,
    justification: str | None = None,
    catalogue: Catalogue | None = None,
) -> dict[str, Any]:
    """Enter a corrected value as a new revision of the unit's report for that day.

    Writes ``<inbox>/<day>/_corrections/<unit>-<UTC timestamp>.csv`` (the whole row with the
    one cell replaced, built from the newest earlier correction or else the original file)
    and the audit row; the file appears only if the audit row commits.
    """
    ref = RowRef.of(period, file_id, sheet, row_number)
    why = _required(justification, "justification")  # every change says why (audited)
    catalogue = catalogue or load_catalogue(settings.form)
    allowed = {*catalogue.codes, "unit_name"}
    if column not in allowed:
        raise ActionError(f"{column!r} is not a correctable column")
    found = _row_issues(engine, ref, username)
    issue = found.iloc[0]
    unit = _text(issue["unit_code"])
    if not unit or not _SAFE_UNIT.match(unit):
        raise ActionError("the row has no usable unit code: reject it and ask for a resubmission")
    new = (new_value or "").strip()
    cells = _base_cells(engine, settings, catalogue, ref, issue)
    old = cells.get(column, "")
    cells[column] = new
    cells["unit_code"] = unit

    folder = _corrections_folder(settings, ref)
    folder.mkdir(parents=True, exist_ok=True)
    reported = _reported_at(engine, folder.parent, ref)
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"{unit}-{stamp}.csv"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header = correction_header(catalogue)
    writer.writerow(header)
    writer.writerow([cells.get(c, "") for c in header])
    tmp = folder / f".{target.name}.tmp"
    content = buf.getvalue().encode("utf-8")
    tmp.write_bytes(content)
    try:
        with engine.begin() as conn:
            row = _audit(
                conn,
                username=username,
                action="correct",
                ref=ref,
                unit_code=unit,
                column=column,
                rule=None,
                old_value=old,
                new_value=new,
                justification=why,
                at=now.isoformat(sep=" "),
            )
            receipts.append(  # timed now, by the steward; its rows by the original's time
                receipts.book_path(folder.parent),
                [
                    receipts.Receipt(
                        source=f"{CORRECTIONS}/{target.name}",
                        sha256=hashlib.sha256(content).hexdigest(),
                        received_at=receipts.iso_utc(pd.Timestamp(now)),
                        channel=receipts.REVIEW,
                        sender=username,
                        ref=row["id"],
                        sender_unit=unit,
                        reported_at=reported,
                    )
                ],
            )
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    row["file"] = str(target)
    return row
