"""Clerk-facing messages for each rule family, built on whole columns.

Every message names the field (Chinese label of the indicator), the value written and the
bound or expectation it broke, and says what to do. Functions take a frame of failures
(one row per failing row and rule, joined with the row's values) and return
``(value, message_zh, message_en)`` Series aligned with it.
"""

from __future__ import annotations

import json
from datetime import date

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


def unit_code_present_texts(
    f: pd.DataFrame,
    suggestion: pd.Series | None = None,
    suggestion_name: pd.Series | None = None,
) -> Texts:
    """``suggestion``: per row, the code of the unit named as written (NA when none;
    see ``suggest.suggest_codes_by_name``); ``suggestion_name``: its registry name."""
    idx = f.index
    zh = "未填写单位代码，请填写本单位的统计用区划代码（村/社区为12位）或部门代码后重报"
    en = (
        "The unit code is blank: write your unit's statistical division code "
        "(12 digits for a village/community) or department code and resubmit"
    )
    if suggestion is None:
        return _s("", idx), _s(zh, idx), _s(en, idx)
    named = suggestion.astype("str")
    if suggestion_name is not None:
        named = named + (" " + suggestion_name.astype("str")).fillna("")
    hint_zh = ("未填写单位代码，按单位名称应为 " + named + "，请填写该代码后重报").fillna(zh)
    hint_en = (
        "The unit code is blank; by the unit name, did you mean " + named + "? "
        "Write that code and resubmit"
    ).fillna(en)
    return _s("", idx), hint_zh.astype("str"), hint_en.astype("str")


def unit_known_texts(
    f: pd.DataFrame, suggestion: pd.Series, suggestion_name: pd.Series | None = None
) -> Texts:
    """``suggestion``: the code the clerk probably meant per row, NA when none (see
    ``suggest.suggest_unit_codes``); ``suggestion_name``: its registry name."""
    code = _s(f["unit_code"], f.index)
    name = _s(f["unit_name"], f.index)
    named = suggestion.astype("str")
    if suggestion_name is not None:
        named = named + (" " + suggestion_name.astype("str")).fillna("")
    hint_zh = ("，是否为 " + named + "？").fillna("，")
    hint_en = ("; did you mean " + named + "?").fillna(".")
    written = ("（" + name + "）").where(name != "", " ")
    written_en = (" (" + name + ")").where(name != "", "")
    mzh = cat("单位代码 ", code, written, "不在区划代码表中", hint_zh, "请核对代码后重报")
    men = cat(
        "Unit code ",
        code,
        written_en,
        " is not in the division register",
        hint_en,
        " Check the code and resubmit.",
    )
    return code, mzh, men


def file_township_texts(f: pd.DataFrame, names: pd.Series) -> Texts:
    """A known village in a file that is another township's batch."""
    idx = f.index
    code = _s(f["unit_code"], idx)
    name = _s(f["registry_name"], idx)
    own = _s(f["_unit_township"], idx)
    batch = _s(f["_file_township"], idx)
    own_name = _s(f["_unit_township"].map(names), idx)
    batch_name = _s(f["_file_township"].map(names), idx)
    mzh = cat(
        "该村不属于本乡镇：",
        code,
        " ",
        name,
        " 属于 ",
        own,
        " ",
        own_name,
        "，而本文件是 ",
        batch,
        " ",
        batch_name,
        " 的报表；请由该村所属乡镇上报，或更正单位代码后重报",
    )
    men = cat(
        code,
        " ",
        name,
        " belongs to township ",
        own,
        " ",
        own_name,
        ", but this file is the report of township ",
        batch,
        " ",
        batch_name,
        ": have its own township report it, or correct the unit code, and resubmit",
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


def period_is_day_texts(f: pd.DataFrame, day: date, max_age_days: int) -> Texts:
    """Three cases, three messages: a future date, a date older than ``max_age_days``
    (usually last week's sheet sent again or an old template), another recent day."""
    idx = f.index
    iso = day.isoformat()
    period = _s(f["period"], idx)
    when = pd.to_datetime(f["period"], errors="coerce", format="ISO8601")
    age = (pd.Timestamp(day) - when).dt.days
    future = (age < 0).fillna(False).to_numpy(bool)
    old = (age > max_age_days).fillna(False).to_numpy(bool)
    n_days = _s(age.abs().astype("Int64"), idx)
    limit = str(max_age_days)
    other_zh = cat("报告日期为 ", period, "，不是本次汇总的日期 ", iso, "，请核实日期后重报")
    other_en = cat(
        "The report date is ",
        period,
        ", not the reporting day ",
        iso,
        ": check the date and resubmit",
    )
    future_zh = cat(
        "报告日期为 ",
        period,
        "，晚于本次汇总的日期 ",
        iso,
        "（未来的日期），不是本次汇总的日期，请核实日期后重报",
    )
    future_en = cat(
        "The report date ",
        period,
        " is in the future (after the reporting day ",
        iso,
        "): check the date and resubmit",
    )
    old_zh = cat(
        "报告日期为 ",
        period,
        "，比本次汇总的日期 ",
        iso,
        " 早 ",
        n_days,
        " 天（超过 ",
        limit,
        " 天，可能沿用了旧报表），不是本次汇总的日期，请改为 ",
        iso,
        " 后重报",
    )
    old_en = cat(
        "The report date ",
        period,
        " is ",
        n_days,
        " days before the reporting day ",
        iso,
        " (more than ",
        limit,
        "; an old sheet sent again?): change it to ",
        iso,
        " and resubmit",
    )
    mzh = other_zh.where(~future, future_zh).where(~old, old_zh)
    men = other_en.where(~future, future_en).where(~old, old_en)
    return _s(f["period_raw"], idx), mzh, men


def _rows_of(f: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per (unit, day) group: where its rows are, e.g. "a.xlsx（工作表 日报表）第3、7行"."""
    sheet = f["sheet"].astype("str").fillna("")
    where_zh = f["file_name"].astype("str") + ("（工作表 " + sheet + "）").where(sheet != "", " ")
    where_en = f["file_name"].astype("str") + (" (sheet " + sheet + ")").where(sheet != "", "")
    rows = pd.DataFrame(
        {
            "unit_code": f["unit_code"],
            "period": f["period"],
            "file_id": f["file_id"].astype("str") + "/" + sheet,
            "zh": where_zh,
            "en": where_en,
            "row": f["row_number"].astype("int64"),
        }
    ).drop_duplicates()
    rows = rows.sort_values(["zh", "file_id", "row"], kind="stable")
    per_file = rows.groupby(["unit_code", "period", "file_id", "zh", "en"], sort=False)["row"].agg(
        lambda r: [str(x) for x in r]
    )
    per_file = per_file.reset_index()
    per_file["zh"] = per_file["zh"] + "第" + per_file["row"].str.join("、") + "行"
    plural = per_file["row"].str.len().gt(1)
    per_file["en"] = (
        per_file["en"]
        + pd.Series(" row ", index=per_file.index).where(~plural, " rows ")
        + per_file["row"].str.join(", ")
    )
    group = per_file.groupby(["unit_code", "period"], sort=False)
    joined = pd.DataFrame(
        {
            "zh": group["zh"].agg("；".join),
            "en": group["en"].agg("; ".join),
            "files": group["zh"].size(),
        }
    )
    keys = pd.MultiIndex.from_frame(f[["unit_code", "period"]].astype("str"))
    joined.index = joined.index.set_levels([lv.astype("str") for lv in joined.index.levels])
    zh = pd.Series(joined["zh"].reindex(keys).to_numpy(), index=f.index, dtype="str")
    en = pd.Series(joined["en"].reindex(keys).to_numpy(), index=f.index, dtype="str")
    return zh, en


def empty_report_texts(f: pd.DataFrame) -> Texts:
    """A row with every indicator blank: kept and accounted, but the unit is not counted
    as reporting; the clerk learns how to say zero and not applicable."""
    value = pd.Series("", index=f.index, dtype="str")
    zh = pd.Series(
        "该行没有填写任何指标（全部空白），不计为已上报；没有发生请填0（零报告），"
        "本单位不适用请填“不适用”或“/”",
        index=f.index,
        dtype="str",
    )
    en = pd.Series(
        "the row has no value for any indicator (all blank) and does not count as a report; "
        "write 0 for a zero report, 不适用 or / where an indicator does not apply",
        index=f.index,
        dtype="str",
    )
    return value, zh, en


def unique_texts(f: pd.DataFrame) -> Texts:
    """All rows of a unit/day group; says which rows (file, sheet, row numbers) they are.

    Rows of different files are here only when the files landed at the same instant (a
    later file supersedes an earlier one at ingest), which the message says.
    """
    code = _s(f["unit_code"], f.index)
    period = _s(f["period"], f.index)
    group = f.groupby(["unit_code", "period"], sort=False)
    n = group["unit_code"].transform("size").astype("str")
    n_files = group["file_id"].transform("nunique")
    where_zh, where_en = _rows_of(f)
    same_zh = pd.Series("", index=f.index, dtype="str").where(
        n_files < 2, "，这些文件的收到时间相同，无法判断哪个更晚"
    )
    same_en = pd.Series("", index=f.index, dtype="str").where(
        n_files < 2, "; the files arrived at the same time, so neither is the later one"
    )
    mzh = cat(
        "单位 ",
        code,
        " 在 ",
        period,
        " 有 ",
        n,
        " 行数据（",
        where_zh,
        "）",
        same_zh,
        "，无法确定以哪一行为准，请只保留一行后重报",
    )
    men = cat(
        "Unit ",
        code,
        " has ",
        n,
        " rows for ",
        period,
        " (",
        where_en,
        ")",
        same_en,
        ": it is unclear which counts; keep one row and resubmit",
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
