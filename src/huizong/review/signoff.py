"""Sign-off (确认上报): a steward confirms a day's figures for their unit after review.

A signed-off day is never changed silently. The sign-off names the version it confirms;
a later publish that changes the unit's values is recorded as a restatement (see
:mod:`huizong.publish.versions`) and the steward responsible for the unit is told, with
what changed. The ``review_signoff`` rows are the audit: who signed which unit, which
version, when.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy.engine import Engine

from huizong.display import grouped
from huizong.review import store
from huizong.review.actions import ActionError, NotFound
from huizong.review.scopes import check_scope, unit_in_scope
from huizong.settings import Settings
from huizong.sqlfiles import statement as sql_statement

#: Units a sign-off is for: aggregated units (township and above), never a single village.
SIGNABLE_LEVELS = (0, 1, 2, 3, 4)
_CHANGES_LISTED = 20


class NotPublished(NotFound):
    """The day has no published version to sign (HTTP 404)."""


class NotSignable(ActionError):
    """The unit is not one a consolidated report is signed for (HTTP 400)."""


def sign_off(
    engine: Engine, *, username: str, period: str | date, unit_code: str, note: str | None = None
) -> dict[str, object]:
    """Record that ``username`` confirms ``unit_code``'s figures of ``period`` as they are
    now published (the latest version). Scope first, as every steward action."""
    day = store.period_text(period)
    check_scope(unit_code, store.scopes_for(engine, username))
    level = _level_of(engine, unit_code)
    if level not in SIGNABLE_LEVELS:
        raise NotSignable(
            "只能对乡镇及以上单位确认上报 / only a township or higher unit is signed off"
        )
    version = latest_version(engine, day)
    if version is None:
        raise NotPublished(f"{day} 尚未发布，无法确认 / {day} is not published yet")
    store.ensure_schema(engine)
    row = {
        "period": day,
        "unit_code": unit_code,
        "version": version,
        "username": username,
        "at": store.now_utc(),
        "note": (note or "").strip() or None,
    }
    with engine.begin() as conn:
        already = conn.execute(
            sql_statement("review/select_signoffs_period.sql"), {"period": day}
        ).fetchall()
        if not any(r.unit_code == unit_code and int(r.version) == version for r in already):
            conn.execute(store.statement("insert_signoff"), row)
    return row


def latest_version(engine: Engine, day: str) -> int | None:
    if not store.has_table(engine, "publish_version"):
        return None
    with engine.connect() as conn:
        found = conn.execute(
            sql_statement("versions/select_latest_version_number.sql"), {"period": day}
        ).scalar()
    return None if found is None else int(found)


def _level_of(engine: Engine, unit_code: str) -> int | None:
    if not store.has_table(engine, "org_unit"):
        return None
    with engine.connect() as conn:
        found = conn.execute(store.statement("select_unit_level"), {"code": unit_code}).scalar()
    return None if found is None else int(found)


def signoffs_for(engine: Engine, period: str | date) -> pd.DataFrame:
    """The day's sign-offs (oldest version first per unit)."""
    day = store.period_text(period)
    params = {"period": day}
    return store.read_frame(engine, "select_signoffs_period", params, table="review_signoff")


def restatement_notice(
    day: str, version: int, unit_code: str, changes: pd.DataFrame
) -> tuple[str, str]:
    """Subject and body telling a steward that a day they signed off has changed."""
    mine = changes[changes["unit_code"] == unit_code]
    subject = (
        f"【更正】{day} 已确认上报的 {unit_code} 数据有变化（第{version}版） / "
        f"restatement: {unit_code} {day} changed after sign-off (version {version})"
    )
    lines = [
        f"您已确认上报的 {day} {unit_code} 数据在第{version}版中有 {len(mine)} 项变化。",
        f"{len(mine)} figures of {unit_code} for {day}, which you signed off, changed in "
        f"version {version}. Please review and sign off again.",
        "",
        "指标 indicator | 原值 old → 新值 new | 原因 cause",
    ]
    for r in mine.head(_CHANGES_LISTED).itertuples():
        lines.append(f"{r.indicator} | {_shown(r.old_value)} → {_shown(r.new_value)} | {r.cause}")
    if len(mine) > _CHANGES_LISTED:
        more = len(mine) - _CHANGES_LISTED
        lines.append(f"…… 另有 {more} 项 / {more} more")
    return subject, "\n".join(lines) + "\n"


def _shown(value: object) -> str:
    if value is None or pd.isna(value):
        return "未报"
    return grouped(value, 2)


def notify_restated(
    day: date, version: int, restated: str, settings: Settings, *, in_task: bool = False
) -> list[str]:
    """Mail the stewards of the sources file who answer for each restated unit; returns
    the addresses told. No stewards listed: nobody to mail (the page still shows it)."""
    from huizong.intake.config import load_sources
    from huizong.intake.credentials import connection_uri
    from huizong.intake.notify import SmtpNotifier
    from huizong.publish.warehouse import read_changes

    config = load_sources(settings.sources)
    if not config.stewards:
        return []
    notifier = SmtpNotifier.from_uri(
        connection_uri(config.smtp_conn_id, in_task=in_task), sender=config.mail_from
    )
    changes = read_changes(settings.warehouse, day, version)
    told = []
    for entry in restated.split("; "):
        unit = entry.split(" ")[0]
        subject, body = restatement_notice(day.isoformat(), version, unit, changes)
        for steward in config.stewards:
            if unit_in_scope(unit, steward.units):
                notifier.send(steward.email, subject, body)
                told.append(steward.email)
    return told
