"""Clerk-facing messages for each rule family, built on whole columns.

Every message names the field (Chinese label of the indicator), the value written and the
bound or expectation it broke, and says what to do. Functions take a frame of failures
(one row per failing row and rule, joined with the row's values) and return
``(value, message_zh, message_en)`` Series aligned with it.
"""

from __future__ import annotations

import json

import pandas as pd

from huizong.catalogue import Catalogue

KIND_ZH = {
    "village": "村/社区",
    "department": "部门",
    "township": "乡镇/街道",
    "county": "县/区",
    "city": "市",
    "province": "省",
    "nation": "全国",
}
KIND_EN = {
    "village": "village/community",
    "department": "department",
    "township": "township/street",
    "county": "county/district",
    "city": "city",
    "province": "province",
    "nation": "nation",
}

Texts = tuple[pd.Series, pd.Series, pd.Series]


def as_text(values: pd.Series) -> pd.Series:
    """Indicator values (float with NaN after the cast) as clerk-readable integers."""
    ints = pd.to_numeric(values, errors="coerce").round().astype("Int64")
    return ints.astype("str").fillna("（空）")


def _s(values: pd.Series | str, index: pd.Index) -> pd.Series:
    if isinstance(values, str):
        return pd.Series(values, index=index, dtype="str")
    return values.astype("str").fillna("")


def bounds(f: pd.Series, catalogue: Catalogue, which: str) -> pd.Series:
    table = {i.code: getattr(i, which) for i in catalogue.numeric}
    return f.map(table).astype("Int64").astype("str")


def cat(*parts: pd.Series | str) -> pd.Series:
    """Concatenate aligned text Series and literals (a vectorised f-string)."""
    out = None
    for part in parts:
        out = part if out is None else out + part
    assert isinstance(out, pd.Series), "cat() needs at least one Series"
    return out


def range_texts(f: pd.DataFrame, catalogue: Catalogue, kind: str) -> Texts:
    """kind: "min", "max" or "warn_above"; ``f`` has columns column, raw_value."""
    zh = f["column"].map({i.code: i.zh for i in catalogue.indicators})
    en = f["column"].map({i.code: i.en for i in catalogue.indicators})
    value = as_text(f["raw_value"])
    bound = bounds(f["column"], catalogue, kind)
    if kind == "min":
        neg = bound == "0"
        mzh = cat(zh, " 填报为 ", value, "，不能小于 ", bound, "，请核实后重报").where(
            ~neg, cat(zh, " 填报为 ", value, "，不能为负数，请核实后重报")
        )
        men = cat(
            en, " is ", value, ": it cannot be below ", bound, "; please correct and resubmit"
        )
        men = men.where(
            ~neg, cat(en, " is ", value, ": it cannot be negative; please correct and resubmit")
        )
    elif kind == "max":
        mzh = cat(zh, " 填报为 ", value, "，超过上限 ", bound, "，请核实后重报")
        men = cat(
            en, " is ", value, ": above the maximum of ", bound, "; please correct and resubmit"
        )
    else:
        mzh = cat(zh, " 填报为 ", value, "，高于通常水平（", bound, "），请核实是否填错")
        men = cat(
            en, " is ", value, ": unusually high (above ", bound, "); please check it is not a typo"
        )
    return value, mzh, men


def rule_texts(f: pd.DataFrame, catalogue: Catalogue) -> Texts:
    """Cross-field rules; ``f`` has rule, left_value, right_value."""
    code = f["rule"].str.removeprefix("rule:")
    rules = {r.code: r for r in catalogue.rules}
    labels_zh = {i.code: i.zh for i in catalogue.indicators}
    labels_en = {i.code: i.en for i in catalogue.indicators}

    def pick(attr: str) -> pd.Series:
        return code.map({c: getattr(r, attr) for c, r in rules.items()})

    left, right = pick("left"), pick("right")
    lv, rv = as_text(f["left_value"]), as_text(f["right_value"])
    is_error = pick("severity") == "error"
    ask_zh = pd.Series("，请核实后重报", index=f.index).where(is_error, "，请核实")
    ask_en = pd.Series("; please check and resubmit", index=f.index).where(
        is_error, "; please check"
    )
    # the rule's own text may already ask for a check: then don't ask twice
    ask_zh = ask_zh.where(~pick("zh").str.contains("请"), "")
    ask_en = ask_en.where(~pick("en").str.contains("please"), "")
    lz, rz, le, re_ = (
        left.map(labels_zh),
        right.map(labels_zh),
        left.map(labels_en),
        right.map(labels_en),
    )
    mzh = cat(lz, " 填报为 ", lv, "，", rz, " 填报为 ", rv, "：", pick("zh"), ask_zh)
    men = cat(le, " is ", lv, ", ", re_, " is ", rv, ": ", pick("en"), ask_en)
    return lv, mzh, men


def unit_code_present_texts(f: pd.DataFrame) -> Texts:
    idx = f.index
    zh = "未填写单位代码，请填写本单位的统计用区划代码（村/社区为12位）或部门代码后重报"
    en = (
        "The unit code is blank: write your unit's statistical division code "
        "(12 digits for a village/community) or department code and resubmit"
    )
    return _s("", idx), _s(zh, idx), _s(en, idx)


def unit_known_texts(f: pd.DataFrame, suggestion: pd.Series) -> Texts:
    """``suggestion``: nearest known code per row, NA when none (see rows.suggest_unit_codes)."""
    code = _s(f["unit_code"], f.index)
    name = _s(f["unit_name"], f.index)
    hint_zh = ("（是否应为 " + suggestion.astype("str") + "？）").fillna("")
    hint_en = (" (did you mean " + suggestion.astype("str") + "?)").fillna("")
    mzh = cat("单位代码 ", code, "（", name, "）不在区划代码库中，请核对代码后重报", hint_zh)
    men = cat(
        "Unit code ",
        code,
        " (",
        name,
        ") is not in the division register",
        hint_en,
        ": check the code and resubmit",
    )
    return code, mzh, men


def unit_kind_texts(f: pd.DataFrame) -> Texts:
    idx = f.index
    code = _s(f["unit_code"], idx)
    name = _s(f["registry_name"], idx)
    kind, claimed = f["unit_kind"], f["claimed_kind"]
    kind_zh, kind_en = _s(kind.map(KIND_ZH).fillna(kind), idx), _s(kind.map(KIND_EN), idx)
    cl_zh, cl_en = _s(claimed.map(KIND_ZH).fillna(claimed), idx), _s(claimed.map(KIND_EN), idx)
    mzh = cat(
        "单位代码 ",
        code,
        "（",
        name,
        "）是",
        kind_zh,
        "，不是本表所报的",
        cl_zh,
        "，请使用本单位正确的代码或报表后重报",
    )
    men = cat(
        "Unit code ",
        code,
        " (",
        name,
        ") is a ",
        kind_en,
        ", not a ",
        cl_en,
        " as the file says: use your unit's own code or form and resubmit",
    )
    return code, mzh, men


def period_present_texts(f: pd.DataFrame, day: str) -> Texts:
    raw = _s(f["period_raw"], f.index)
    mzh = cat("报告日期“", raw, "”无法识别，请按 ", day, " 的格式填写日期后重报")
    men = cat('The report date "', raw, '" cannot be read: write it like ', day, " and resubmit")
    return raw, mzh, men


def period_is_day_texts(f: pd.DataFrame, day: str) -> Texts:
    period = _s(f["period"], f.index)
    mzh = cat("报告日期为 ", period, "，不是本次汇总的日期 ", day, "，请核实日期后重报")
    men = cat(
        "The report date is ",
        period,
        ", not the reporting day ",
        day,
        ": check the date and resubmit",
    )
    return _s(f["period_raw"], f.index), mzh, men


def unique_texts(f: pd.DataFrame) -> Texts:
    """All rows of a unit/day group; names the number of rows and the files involved."""
    code = _s(f["unit_code"], f.index)
    period = _s(f["period"], f.index)
    group = f.groupby(["unit_code", "period"], sort=False)
    n = group["unit_code"].transform("size").astype("str")
    files = group["file_name"].transform(lambda s: "、".join(sorted(set(s.astype("str")))))
    mzh = cat(
        "单位 ",
        code,
        " 在 ",
        period,
        " 有 ",
        n,
        " 行数据（文件：",
        files,
        "），无法确定以哪一行为准，请只保留一行后重报",
    )
    men = cat(
        "Unit ",
        code,
        " has ",
        n,
        " rows for ",
        period,
        " (files: ",
        files.str.replace("、", ", "),
        "): it is unclear which counts; keep one row and resubmit",
    )
    return code, mzh, men


_UNREADABLE = {"column": None, "zh": "单元格内容无法识别", "en": "a cell could not be read"}


def explode_cell_errors(f: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """One issue per unparseable cell (rows with cell errors are few: plain Python)."""
    labels_zh = {i.code: i.zh for i in catalogue.indicators}
    labels_en = {i.code: i.en for i in catalogue.indicators}
    records = []
    for pos, text in zip(f["_pos"], f["cell_errors"], strict=True):
        try:
            cells = json.loads(text)
        except (TypeError, ValueError):
            cells = None
        if not isinstance(cells, list) or not cells:
            cells = [{**_UNREADABLE, "raw": str(text)}]
        for cell in cells:
            col = cell.get("column")
            raw = str(cell.get("raw", ""))
            zh = labels_zh.get(col, col or "某列")
            en = labels_en.get(col, col or "a column")
            why_zh, why_en = cell.get("zh", ""), cell.get("en", "")
            records.append(
                {
                    "_pos": pos,
                    "column": col,
                    "value": raw,
                    "message_zh": f"{zh} 填报为“{raw}”，无法识别：{why_zh}，请更正后重报",
                    "message_en": f'{en} is "{raw}": it cannot be read ({why_en}); '
                    "please correct and resubmit",
                }
            )
    return pd.DataFrame.from_records(
        records, columns=["_pos", "column", "value", "message_zh", "message_en"]
    )
