"""Plain Chinese and English names for rule codes (``min:masks_in_stock`` →
“口罩库存 小于最小值 / masks in stock below the minimum”), so a steward never has to read
a code; the code stays beside the label for whoever needs it."""

from __future__ import annotations

from huizong.catalogue import Catalogue

#: Rules without a column: what the check is about.
WHOLE_ROW = {
    "unique_unit_day": ("同一单位同日重复上报", "the same unit reported twice for the day"),
    "earlier_report_kept": (
        "未通过校验，沿用先前已接收的报表",
        "failed checks; the earlier report stays in use",
    ),
    "unit_known": ("单位代码不存在", "unknown unit code"),
    "unit_in_file_township": ("该村不属于本乡镇", "the unit is not of this file's township"),
    "period_is_day": ("报告日期不是当日", "the report is not for this day"),
    "cumulative_down": ("累计数下降", "a cumulative count went down"),
    "department_pair": ("部门数与地区合计不符", "a department figure differs from the area"),
    "outlier": ("与近14天差异很大", "far from the unit's recent 14 days"),
    "township_total": ("乡镇合计行与各村之和不符", "the township's total row differs"),
}

#: ``prefix:indicator`` rules: what is wrong with the indicator's value.
ON_A_COLUMN = {
    "min": ("小于最小值", "below the minimum"),
    "max": ("超过最大值", "above the maximum"),
    "warn_above": ("异常偏高", "unusually high"),
    "range": ("超出范围", "out of range"),
    "unreadable": ("无法识别", "not readable"),
    "outlier": ("与近14天差异很大", "far from the unit's recent 14 days"),
    "cumulative_down": ("累计数下降", "cumulative count went down"),
}


def rule_label(rule: object, catalogue: Catalogue) -> tuple[str, str]:
    """(Chinese, English) for a rule code; the code itself when nothing better is known."""
    code = str(rule or "")
    if code.startswith("waived:"):  # a steward let the rule pass for this row
        zh, en = rule_label(code.removeprefix("waived:"), catalogue)
        return f"已豁免：{zh}", f"waived: {en}"
    if code in WHOLE_ROW:
        return WHOLE_ROW[code]
    prefix, _, rest = code.partition(":")
    if prefix == "rule":
        for r in catalogue.rules:
            if r.code == rest:
                return r.zh, r.en
    indicators = {i.code: i for i in catalogue.indicators}
    if prefix in ON_A_COLUMN and rest in indicators:
        zh, en = ON_A_COLUMN[prefix]
        ind = indicators[rest]
        return f"{ind.zh}{zh}", f"{ind.en} {en}"
    if prefix in WHOLE_ROW:
        return WHOLE_ROW[prefix]
    return code, code
