"""The day page's "missing at the deadlines" section: per level whose deadline was checked,
the steward's units that had sent nothing by then, one table per county and township.

The lists are what the deadline task (:mod:`huizong.intake.deadlines`) kept in the
warehouse when it notified the stewards, so the page shows whom they were asked to
phone, even before the night has published the day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

import pandas as pd

from huizong import warehouse
from huizong.intake.deadlines import LEVEL_ZH
from huizong.review.html import e, table
from huizong.review.scopes import in_scope
from huizong.settings import TIMEZONE


def lists_in_scope(
    target: warehouse.Target, period: str, scopes: Iterable[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(deadline checks, missing units within ``scopes``) of one day."""
    checks, missing = warehouse.deadline_lists(target, date.fromisoformat(period))
    mine = missing[in_scope(missing["unit_code"].astype("str"), tuple(scopes)).to_numpy()]
    return checks, mine.reset_index(drop=True)


def deadline_section(checks: pd.DataFrame, missing: pd.DataFrame) -> str:
    """HTML: one block per checked deadline (earliest first), grouped county → township."""
    parts = ['<h2 id="deadline-missing">截止时未报 Not reported at the deadlines</h2>']
    if checks.empty:
        parts.append('<p class="note">本日尚未到截止时间或未检查 / no deadline checked yet</p>')
        return "".join(parts)
    tz = ZoneInfo(TIMEZONE)
    for check in checks.to_dict("records"):
        level = str(check["level"])
        rows = missing[missing["level"] == level]
        when = pd.Timestamp(check["deadline"]).tz_convert(tz).strftime("%H:%M")
        listed = pd.Timestamp(check["listed_at"]).tz_convert(tz).strftime("%Y-%m-%d %H:%M")
        parts.append(
            f'<h3 id="deadline-{e(level)}">{e(LEVEL_ZH.get(level, level))} {e(when)} 截止 · '
            f"{e(level)} deadline {e(when)} — 你的单位中未报 {len(rows)} / "
            f"{len(rows)} of your units missing</h3>"
            f'<p class="note">检查于 listed at {e(listed)}</p>'
        )
        if rows.empty:
            parts.append('<p class="note">全部已报 / everyone had reported</p>')
            continue
        county = rows["county_code"].fillna("").astype("str")
        town = rows["township_code"].fillna("").astype("str")
        for (c, t), units in rows.groupby([county, town], sort=True):
            first = units.iloc[0]
            where = (
                f"{first['county_name'] or ''} {c} · {first['township_name'] or ''} {t}"
                if t
                else f"{first['county_name'] or ''} {c} · 部门 departments"
            )
            parts.append(
                f'<h4 class="township" data-level="{e(level)}" data-township="{e(t)}">'
                f"{e(where.strip())} — {len(units)}</h4>"
            )
            parts.append(
                table(
                    units,
                    {"unit_code": "单位代码 Unit", "unit_name": "名称 Name"},
                )
            )
    return "".join(parts)
