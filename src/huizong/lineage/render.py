"""A trace as text a person reads (``huizong trace``), in Chinese with English beside it."""

from __future__ import annotations

import pandas as pd

from huizong.display import grouped, local_time
from huizong.lineage.trace import (
    STATUS_BLANK,
    STATUS_NOT_APPLICABLE,
    STATUS_NOT_REPORTED,
    STATUS_REPORTED,
    Trace,
)

STATUS_LABELS = {
    STATUS_REPORTED: "已报 / reported",
    STATUS_BLANK: "已报，此项空白 / reported, left blank",
    STATUS_NOT_APPLICABLE: "不适用 / not applicable",
    STATUS_NOT_REPORTED: "未报 / not reported",
}
#: The value of a reporter that gave none: the status beside it says why.
NO_VALUE = "—"
_RULES = {
    "sum": "求和 sum",
    "mean": "平均（按报告单位） mean over reporters",
    "max": "最大值 max",
    "min": "最小值 min",
    "text": "逐单位列出 attributed list",
}
_TIME = {"sum": "期内逐日求和 summed over the days", "last": "期内最后报告值 last value"}


def _number(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return NO_VALUE
    return grouped(value, 4)


def summary_lines(trace: Trace) -> list[str]:
    """The head of a trace: unit, period, published value, aggregation rule, re-add verdict
    (the same lines in ``huizong trace`` and on the review app's lineage page)."""
    ind, pub = trace.indicator, trace.published
    shown = pub.value_text if not ind.is_numeric else _number(pub.value)
    if shown == NO_VALUE:
        shown = "未报 / not reported"
    return [
        f"{trace.unit_name}（{trace.unit_code}） {ind.zh} / {ind.en}",
        f"报告期 period: {trace.period.label}（截至 through {trace.through.isoformat()}）",
        f"已发布 published: {shown}  报告单位 reporting {pub.reporting_units}/{pub.expected_units}",
        f"汇总方式 aggregation: {_RULES.get(ind.across_units, ind.across_units)}"
        + (f"；{_TIME[ind.across_time]}" if trace.period.type != "day" else ""),
        f"复算 recomputed: {trace.recomputed if not ind.is_numeric else _number(trace.recomputed)}"
        f"  → {'一致 re-adds' if trace.re_adds else '不一致 DOES NOT re-add'}",
    ]


def render_text(trace: Trace, *, limit: int = 200) -> str:
    """The published value, how it aggregates, each reporter's part, files and actions."""
    ind = trace.indicator
    lines = [
        *summary_lines(trace),
        "",
        "单位 unit | 状态 status | 数值 value | 日期 day",
    ]
    rows = trace.contributors
    for r in rows.head(limit).itertuples():
        value = r.value_text if not ind.is_numeric else _number(r.value)
        day = "" if pd.isna(r.day) else r.day
        lines.append(f"{r.unit_code} {r.unit_name} | {STATUS_LABELS[r.status]} | {value} | {day}")
    if len(rows) > limit:
        lines.append(f"…… 另有 {len(rows) - limit} 个单位 / {len(rows) - limit} more units")
    lines += ["", "来源文件 files (sha256, 接收时间 received, 渠道 channel, 行 row, 转换 coercion)"]
    for e in trace.evidence.head(limit).itertuples():
        lines.append(
            f"{e.unit_code} {e.period}: {e.file_name} {str(e.file_id)[:12]}… "
            f"{local_time(e.received_at)} {e.channel} 第{e.row_number}行 row {e.row_number}"
            + (f" {e.coercion}" if e.coercion else "")
        )
    if len(trace.actions):
        lines += ["", "审核操作 steward actions"]
        for a in trace.actions.itertuples():
            lines.append(
                f"{local_time(a.at)} {a.username} {a.action} {a.unit_code} "
                f"{a.old_value} → {a.new_value}：{a.justification or ''}"
            )
    return "\n".join(lines) + "\n"
