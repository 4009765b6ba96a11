"""Turn the cells clerks typed into indicator values, vectorised over whole columns.

Clerks write counts in many ways. Each cell ends in exactly one of four states, and the
first three must never be confused:

* a number (``0`` is a real report, 零报告),
* blank: not reported (NA, nothing recorded),
* not applicable (NA, and the indicator code listed in ``not_applicable``),
* an error: NA plus an entry in ``cell_errors`` so the clerk sees what was rejected.

Every change made to a cell on the way to a number (full-width digits, thousands
separators, a matching unit, 无 → 0, Chinese numerals) and every placeholder read as
blank is recorded in ``coercions`` so that it can be audited. Anything whose meaning is
not certain (约50, 3-5, 56户 for people, 三百五) is a cell error with a precise reason.
The rules are a plain ordered table (:data:`TEXT_RULES`, mirrored in docs/coercions.md):
add a rule there, not in the machinery.

Everything here works on whole columns: the common case (a clean number) costs one
``pd.to_numeric`` call; only cells that are not plain numbers go down the rule chain.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

#: Written in a count cell, these mean "this indicator does not apply to us".
NOT_APPLICABLE_TOKENS = frozenset(
    {"不适用", "n/a", "na", "/", "not applicable", "无此项", "不涉及", "-/-"}
)

#: Placeholders meaning "not filled in": the cell is blank (not reported), never zero.
#: ☆/★ are what the seeds' templates put where a number is still to be written; a dash
#: is the statistical tables' "no data" mark (国家统计局: "—" 表示无该项数据), which says
#: nothing about whether the count is zero, so it is not turned into one.
BLANK_PLACEHOLDERS = frozenset(
    {"☆", "★", "☆☆", "★★", "空", "空白", "未填", "待填", "-", "--", "—", "——", "–", "…", "..."}
)

#: Units recognised after a number ("56人"). A unit equal to (or a synonym of) the
#: indicator's own is dropped; any other unit of this list is a cell error naming both.
KNOWN_UNITS = (
    "平方米", "人次", "车次", "辆次", "千克", "公斤", "小时", "m2", "kg",
    "人", "名", "位", "户", "个", "次", "例", "份", "只", "块", "条", "辆", "支", "天",
    "级", "元", "处", "家", "台", "张", "间", "所", "座", "套", "箱", "瓶", "副", "双",
    "吨", "米", "场", "批", "组", "%",
)  # fmt: skip
#: Other ways of writing the same unit (after NFKC: ㎡ → m2).
UNIT_SYNONYMS: dict[str, frozenset[str]] = {
    "人": frozenset({"名", "位"}),
    "千克": frozenset({"公斤", "kg"}),
    "平方米": frozenset({"m2"}),
}
#: Indicators in these units have no "none" that means 0 (a percentage, a risk level):
#: "无" there is ambiguous and is a cell error.
NO_ZERO_UNITS = frozenset({"%", "级"})
NONE_TOKENS = frozenset({"无", "没有", "无。"})

#: Integers beyond this are not exact in float64, and no indicator comes near it.
_MAX_EXACT = 2**53


@dataclass(frozen=True)
class TextRule:
    """One step of the chain a cell that is not a plain number goes through.

    ``apply(text, unit)`` receives the current text of the still-undecided cells (``str``
    Series) and the indicator's catalogue unit, and returns a Series on the same index,
    NA where the rule does not concern the cell. Otherwise, by ``action``:

    * ``"rewrite"``: the new text; the cell goes on down the chain, and the rule is
      recorded as a coercion (``rule`` = ``name``) if the cell finally parses.
    * ``"reject"``: a ``(zh, en)`` reason; the cell is a cell error, the chain stops.
    * ``"blank"``: any non-NA value; the cell is blank (not reported), the chain stops,
      and a coercion with ``value`` null records why.
    """

    name: str
    action: Literal["rewrite", "reject", "blank"]
    apply: Callable[[pd.Series, str], pd.Series]
    zh: str
    en: str


def _fullwidth(text: pd.Series, unit: str) -> pd.Series:
    """Full-width digits, signs and separators (１２，３４５) become ASCII (NFKC)."""
    norm = text.str.normalize("NFKC")
    return norm.where(norm != text)


def _placeholder(text: pd.Series, unit: str) -> pd.Series:
    return text.where(text.isin(BLANK_PLACEHOLDERS))


def _none_is_zero(text: pd.Series, unit: str) -> pd.Series:
    """ "无" in a count cell is zero (零报告), except where zero has no meaning."""
    if unit in NO_ZERO_UNITS:
        return pd.Series(pd.NA, index=text.index, dtype="str")
    return pd.Series("0", index=text.index, dtype="str").where(text.isin(NONE_TOKENS))


def _none_ambiguous(text: pd.Series, unit: str) -> pd.Series:
    hit = text.isin(NONE_TOKENS)
    return _reasons(
        hit,
        f"“无”对单位为“{unit}”的指标含义不明确，请填写数字或“不适用”",
        f"'无' is ambiguous for an indicator in {unit!r}: write a number or 不适用",
    )


_NUMERAL = r"(?:\d|[零〇一二两三四五六七八九十百千万])"
_APPROX = re.compile(
    rf"^(?:大约|约|近|将近|接近|估计|预计|大概)\s*{_NUMERAL}"
    rf"|{_NUMERAL}[^\d]{{0,4}}?(?:左右|余|多|以上|以下|上下|\+)\s*\S{{0,3}}$"
)


def _approximate(text: pd.Series, unit: str) -> pd.Series:
    return _reasons(
        text.str.contains(_APPROX, na=False),
        "约数不是统计数据，请填写确切数字",
        "an approximate value is not data: give the exact count",
    )


_RANGE = re.compile(r"^\d+(?:\.\d+)?\s*(?:-|~|～|至|到|—|–)\s*\d+(?:\.\d+)?\s*\D{0,3}$")


def _range(text: pd.Series, unit: str) -> pd.Series:
    return _reasons(
        text.str.match(_RANGE, na=False),
        "填写的是范围，请填写确切数字",
        "a range is not a count: give the exact number",
    )


_UNIT_SUFFIX = re.compile(
    r"^([+-]?[\d,.]+|[零〇一二两三四五六七八九十百千万]+)\s*("
    + "|".join(re.escape(u) for u in sorted(KNOWN_UNITS, key=len, reverse=True))
    + r")$"
)


def _unit_matches(unit: str, written: str) -> bool:
    return written == unit or written in UNIT_SYNONYMS.get(unit, frozenset())


def _unit_parts(text: pd.Series) -> pd.DataFrame:
    """(number, unit) of the cells written "number unit"; NA elsewhere (match first: the
    regex match is several times cheaper than extract on the cells without a unit)."""
    hit = text.str.match(_UNIT_SUFFIX, na=False).to_numpy(bool)
    parts = pd.DataFrame({0: pd.NA, 1: pd.NA}, index=text.index, dtype="str")
    if hit.any():
        got = text[hit].str.extract(_UNIT_SUFFIX)
        parts.loc[hit, 0] = got[0]
        parts.loc[hit, 1] = got[1]
    return parts


def _unit(text: pd.Series, unit: str) -> pd.Series:
    """``56人`` → ``56`` when 人 is the indicator's unit (or a synonym such as 名)."""
    parts = _unit_parts(text)
    same = [isinstance(u, str) and _unit_matches(unit, u) for u in parts[1]]
    return parts[0].where(np.array(same, dtype=bool))


def _unit_mismatch(text: pd.Series, unit: str) -> pd.Series:
    """``56户`` for an indicator counted in 人: a different quantity, never converted."""
    written = _unit_parts(text)[1]
    want = unit or "（无单位）"
    return written.map(
        lambda u: (
            f"单位“{u}”与该指标的单位“{want}”不符，请按“{want}”填写数字",
            f"unit '{u}' does not match the indicator's unit '{unit or '(none)'}': "
            f"give the number in {unit or 'plain numbers'}",
        ),
        na_action="ignore",
    ).astype(object)


_THOUSANDS = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"


def _thousands(text: pd.Series, unit: str) -> pd.Series:
    """``1,234`` → ``1234``: only well-formed groups of three, so ``1,2`` stays an error.

    The full-width comma (1，234) arrives here already made ASCII by ``fullwidth``."""
    stripped = text.str.strip()
    hit = stripped.str.match(_THOUSANDS, na=False)
    return stripped.str.replace(",", "", regex=False).where(hit)


_CN_CHARS = re.compile(r"^[零〇一二两三四五六七八九十百千万]+$")


def _chinese(text: pd.Series, unit: str) -> pd.Series:
    hit = text.str.match(_CN_CHARS, na=False)
    out = pd.Series(pd.NA, index=text.index, dtype="str")
    if hit.any():
        out[hit] = text[hit].map(chinese_numeral)
    return out


def _chinese_ambiguous(text: pd.Series, unit: str) -> pd.Series:
    return _reasons(
        text.str.match(_CN_CHARS, na=False),
        "中文数字写法有歧义（如“三百五”），请填写阿拉伯数字",
        "a Chinese numeral that is not unambiguous (e.g. 三百五): write the digits",
    )


def _reasons(hit: pd.Series, zh: str, en: str) -> pd.Series:
    out = pd.Series(None, index=hit.index, dtype=object)
    out[hit.to_numpy(bool)] = [(zh, en)] * int(hit.sum())
    return out


#: Applied in order to cells that are not already plain numbers; each rule sees the
#: output of the previous ones. The README table (docs/coercions.md) mirrors this list.
TEXT_RULES: list[TextRule] = [
    TextRule("fullwidth", "rewrite", _fullwidth, "全角字符已转为半角", "full-width → ASCII"),
    TextRule("placeholder_blank", "blank", _placeholder, "占位符视为未填报", "placeholder: blank"),
    TextRule("none_is_zero", "rewrite", _none_is_zero, "“无”记为0", "'无' read as 0"),
    TextRule("none_ambiguous", "reject", _none_ambiguous, "“无”含义不明确", "'无' ambiguous"),
    TextRule("approximate", "reject", _approximate, "约数", "approximate value"),
    TextRule("range", "reject", _range, "范围", "range"),
    TextRule("unit", "rewrite", _unit, "去掉与指标一致的单位", "matching unit removed"),
    TextRule("unit_mismatch", "reject", _unit_mismatch, "单位不符", "unit mismatch"),
    TextRule("thousands", "rewrite", _thousands, "去掉千位分隔符", "thousands separators removed"),
    TextRule("chinese_numeral", "rewrite", _chinese, "中文数字已转换", "Chinese numeral read"),
    TextRule("chinese_ambiguous", "reject", _chinese_ambiguous, "中文数字有歧义", "ambiguous"),
]

_CN_DIGIT = {
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_CN_DIGIT_OF = "零一二三四五六七八九"


def chinese_numeral(text: str) -> str | None:
    """ "一百零五" → "105"; None unless ``text`` is a number written the standard way.

    Unambiguous means: it reads back identically (两/〇 and a leading 一十 allowed), so
    colloquial short forms (三百五 = 350? 305?) and digit strings (一二三) are refused."""
    canon = text.replace("两", "二").replace("〇", "零")
    if canon.startswith("一十"):
        canon = canon[1:]
    total = section = digit = 0
    for ch in canon:
        if ch in _CN_DIGIT:
            digit = _CN_DIGIT[ch]
        elif ch in _CN_UNIT:
            section += (digit or 1) * _CN_UNIT[ch]
            digit = 0
        else:  # 万
            total += (section + digit) * 10000
            section = digit = 0
    value = total + section + digit
    return str(value) if value < 10**8 and _to_chinese(value) == canon else None


def _to_chinese(n: int) -> str:
    """The standard writing of 0 <= n < 10**8 (十二, 一百零五, 一万零一十, 十二万)."""
    if n == 0:
        return "零"
    high, low = divmod(n, 10000)
    out = _section(high) + "万" if high else ""
    if low:
        if high and low < 1000:
            out += "零"
        out += _section(low)
    return out[1:] if out.startswith("一十") else out


def _section(n: int) -> str:
    digits = (n // 1000, n // 100 % 10, n // 10 % 10, n % 10)
    out, started, zero = "", False, False
    for d, u in zip(digits, ("千", "百", "十", ""), strict=True):
        if d:
            out += ("零" if zero else "") + _CN_DIGIT_OF[d] + u
            started, zero = True, False
        elif started:
            zero = True
    return out


@dataclass
class ParsedColumn:
    """A column of counts, plus the sparse events that explain it (row = position)."""

    values: pd.Series  # Int64
    not_applicable: np.ndarray  # positions marked 不适用
    errors: list[tuple[int, dict]] = field(default_factory=list)
    coercions: list[tuple[int, dict]] = field(default_factory=list)


_PLAIN_INT = r"^\s*-?\d{1,15}\s*$"


def _plain_integers(arr: np.ndarray) -> np.ndarray | None:
    """Text cells that are plain integers, parsed in Arrow (several times faster than
    ``pd.to_numeric`` on Python strings). Float64 with NaN for every other cell, or None
    if the cells are not all text (Excel columns mix floats and text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array(arr, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return None
    ok = pc.fill_null(pc.match_substring_regex(text, _PLAIN_INT), False)
    ints = pc.cast(pc.utf8_trim_whitespace(pc.if_else(ok, text, "0")), pa.int64())
    nums = ints.to_numpy(zero_copy_only=False).astype("float64")
    nums[~ok.to_numpy(zero_copy_only=False)] = np.nan
    return nums


def _raw_text(value: object) -> str:
    """A cell as the clerk would recognise it (5.0 from Excel shows as 5)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_BOOL_TYPES = frozenset({bool, np.bool_})
#: Cell types a workbook column is made of when :func:`_excel_numbers` applies.
_EXCEL_TYPES = frozenset({float, int, str, type(None)})
_STR_TYPE = frozenset({str})


def _excel_numbers(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(numbers, missing, positions of "" cells) of a workbook column, as
    ``pd.to_numeric(errors="coerce")`` and ``isna`` give them, by exact cell type through
    C-level maps; None unless the column mixes numbers with text only (then the general
    path decides: all-text CSV columns, booleans, dates, formula cells, str subclasses).

    Floats and ints are converted in one ``astype``; only non-empty text cells (a few
    per column) go through ``pd.to_numeric``: to_numeric and isna over a day's 1.3 M
    mostly-float cells cost more than the rest of parsing."""
    types = list(map(type, arr))
    kinds = set(types)
    if not kinds <= _EXCEL_TYPES or not (float in kinds or int in kinds):
        return None
    n = len(arr)
    nums = np.full(n, np.nan)
    is_str = np.fromiter(map(_STR_TYPE.__contains__, types), bool, n)
    other = ~is_str
    try:
        nums[other] = arr[other].astype("float64")  # None -> NaN
    except OverflowError:  # an int beyond float64: the general path
        return None
    missing = other & np.isnan(nums)
    at = np.flatnonzero(is_str)
    blank = np.asarray(arr[at] == "", dtype=bool)
    written = at[~blank]
    if len(written):
        nums[written] = pd.to_numeric(
            pd.Series(arr[written], dtype=object), errors="coerce"
        ).to_numpy(dtype="float64", na_value=np.nan)
    return nums, missing, at[blank]


def _general_numbers(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(numbers, missing) of any column :func:`_excel_numbers` does not take."""
    obj = pd.Series(arr, dtype=object, copy=False)
    missing = obj.isna().to_numpy()
    nums = _plain_integers(arr)
    if nums is not None:  # all text (CSV): cells that are not plain integers go slowly
        rest = np.flatnonzero(np.isnan(nums) & ~missing)
        if len(rest):
            nums[rest] = pd.to_numeric(
                pd.Series(arr[rest], dtype=object), errors="coerce"
            ).to_numpy(dtype="float64", na_value=np.nan)
    else:  # mixed cells (Excel): floats, text, dates, booleans
        nums = np.array(
            pd.to_numeric(obj, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        )
        # Booleans pass to_numeric as 0/1; a TRUE in a count cell is not a count.
        maybe_bool = np.flatnonzero((nums == 0) | (nums == 1))
        if len(maybe_bool):
            # by exact type through C-level maps (bool cannot be subclassed): a national
            # day has millions of 0/1 counts, one Python-level isinstance each cost seconds
            is_bool = np.fromiter(
                map(_BOOL_TYPES.__contains__, map(type, arr[maybe_bool])), bool, len(maybe_bool)
            )
            nums[maybe_bool[is_bool]] = np.nan
    return nums, missing


def parse_counts(raw: pd.Series, column: str, unit: str = "") -> ParsedColumn:
    """Parse one indicator column (any dtype) into Int64 with its events.

    ``raw`` is indexed by position (0..n-1) or not; events refer to positions.
    """
    n = len(raw)
    arr = raw.to_numpy()
    if raw.dtype.kind in "iu":  # fast path: already integers
        return ParsedColumn(pd.array(arr.astype("int64"), dtype="Int64"), np.empty(0, "int64"))
    if raw.dtype.kind == "f":
        nums = arr.astype("float64")
        blank = np.isnan(nums)
        return _finish(nums, blank, np.zeros(n, bool), arr, column)

    typed = _excel_numbers(arr)
    if typed is not None:  # the usual workbook column: floats, blanks, a few texts
        nums, missing, empty = typed
    else:
        nums, missing = _general_numbers(arr)
        empty = np.empty(0, "int64")
    blank = missing.copy()
    blank[empty] = True  # "" cells: blank, as the text path below would find them
    pending = np.flatnonzero(np.isnan(nums) & ~blank)
    na_mask = np.zeros(n, bool)
    chain = _Chain()
    if len(pending):
        formula = np.fromiter(
            (isinstance(arr[p], NoCachedValue) for p in pending), bool, len(pending)
        )
        for p in pending[formula]:
            chain.rejected.append((int(p), (FORMULA_ZH, FORMULA_EN)))
        pending = pending[~formula]
    if len(pending):
        text = pd.Series(arr[pending], dtype=object).map(_raw_text).astype("str")
        stripped = text.str.strip()
        is_blank = (stripped == "").to_numpy()
        blank[pending[is_blank]] = True
        lowered = stripped.str.normalize("NFKC").str.strip().str.lower()
        is_na = lowered.isin(NOT_APPLICABLE_TOKENS).to_numpy() & ~is_blank
        na_mask[pending[is_na]] = True
        todo = ~(is_blank | is_na)
        pos = pending[todo]
        parsed = chain.run(stripped[todo], pos, unit)
        nums[pos] = parsed
        blank[[p for p, _ in chain.blanked]] = True
    return _finish(nums, blank, na_mask, arr, column, chain)


#: The clerk's message for a formula cell whose workbook holds no computed value.
FORMULA_ZH = "公式没有计算结果，请在Excel中打开并保存文件后重报"
FORMULA_EN = "formula without a cached value: open and save the file in Excel, then resubmit"


class NoCachedValue(str):
    """A formula cell with no cached result (the text is the formula): never a value."""


@dataclass
class _Chain:
    """Runs :data:`TEXT_RULES` over the undecided cells and keeps what each did."""

    rules_hit: dict[int, list[str]] = field(default_factory=dict)
    rejected: list[tuple[int, tuple[str, str]]] = field(default_factory=list)
    blanked: list[tuple[int, str]] = field(default_factory=list)
    unparsed: list[int] = field(default_factory=list)

    def run(self, text: pd.Series, pos: np.ndarray, unit: str) -> np.ndarray:
        """Numbers for the cells at ``pos`` (their ``text``); NaN where none."""
        cur = text.to_numpy(dtype=object).copy()
        live = np.ones(len(cur), bool)
        hits = np.zeros((len(cur), len(TEXT_RULES)), bool)
        for k, rule in enumerate(TEXT_RULES):
            idx = np.flatnonzero(live)
            if not len(idx):
                break
            out = rule.apply(pd.Series(cur[idx], dtype="str"), unit)
            matched = out.notna().to_numpy()
            if not matched.any():
                continue
            where = idx[matched]
            found = out.to_numpy(dtype=object)[matched]
            if rule.action == "rewrite":
                hits[where, k] = True
                cur[where] = found
            elif rule.action == "reject":
                live[where] = False
                self.rejected.extend((int(pos[j]), r) for j, r in zip(where, found, strict=True))
            else:
                live[where] = False
                self.blanked.extend((int(pos[j]), rule.name) for j in where)
        parsed = np.full(len(cur), np.nan)
        idx = np.flatnonzero(live)
        parsed[idx] = pd.to_numeric(pd.Series(cur[idx], dtype=object), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        ok = ~np.isnan(parsed)
        names = [r.name for r in TEXT_RULES]
        for j in np.flatnonzero(ok & hits.any(axis=1)):
            self.rules_hit[int(pos[j])] = [names[k] for k in np.flatnonzero(hits[j])]
        self.unparsed.extend(int(p) for p in pos[live & ~ok])
        return parsed


def _finish(
    nums: np.ndarray,
    blank: np.ndarray,
    na_mask: np.ndarray,
    arr: np.ndarray,
    column: str,
    chain: _Chain | None = None,
) -> ParsedColumn:
    chain = chain or _Chain()
    errors: list[tuple[int, dict]] = []
    for p in chain.unparsed:
        errors.append((p, _err(column, arr[p], "无法识别为数字", "not a number")))
    for p, (zh, en) in chain.rejected:
        errors.append((p, _err(column, arr[p], zh, en)))
    finite = np.isfinite(nums)
    bad_inf = np.flatnonzero(~finite & ~np.isnan(nums))
    with np.errstate(invalid="ignore"):
        frac = finite & (np.floor(nums) != nums)
        huge = finite & (np.abs(nums) >= _MAX_EXACT)
    for p in bad_inf:
        errors.append((int(p), _err(column, arr[p], "无法识别为数字", "not a number")))
    for p in np.flatnonzero(frac):
        errors.append((int(p), _err(column, arr[p], "应为整数", "must be a whole number")))
    for p in np.flatnonzero(huge & ~frac):
        errors.append((int(p), _err(column, arr[p], "数值过大", "number too large")))
    good = finite & ~frac & ~huge
    values = np.zeros(len(nums), dtype="int64")
    values[good] = nums[good].astype("int64")
    result = pd.array(values, dtype="Int64")
    result[~good] = pd.NA
    coercions = [
        (
            p,
            {
                "column": column,
                "raw": _raw_text(arr[p]),
                "value": int(values[p]),
                "rule": "+".join(names),
            },
        )
        for p, names in sorted(chain.rules_hit.items())
        if good[p]
    ]
    coercions.extend(
        (p, {"column": column, "raw": _raw_text(arr[p]), "value": None, "rule": name})
        for p, name in chain.blanked
    )
    coercions.sort(key=lambda e: e[0])
    errors.sort(key=lambda e: e[0])
    return ParsedColumn(result, np.flatnonzero(na_mask), errors, coercions)


def _err(column: str, raw: object, zh: str, en: str) -> dict:
    return {"column": column, "raw": _raw_text(raw), "zh": zh, "en": en}


def parse_text(raw: pd.Series) -> pd.Series:
    """Free text (and codes, names): stripped; blank → NA; Excel's 5.0 shows as 5."""
    text = pd.Series(raw.to_numpy(), dtype=object, copy=False).astype("str").str.strip()
    whole = text.str.endswith(".0").fillna(False)
    if whole.any():
        whole &= text.str.fullmatch(r"\d+\.0").fillna(False)
        text = text.where(~whole, text.str.slice(0, -2))
    return text.where(text != "")


def events_json(n: int, events: list[tuple[int, dict]]) -> np.ndarray:
    """Per-row JSON lists from sparse (position, record) events; "" where none."""
    out = np.full(n, "", dtype=object)
    by_row: dict[int, list[dict]] = {}
    for p, rec in events:
        by_row.setdefault(p, []).append(rec)
    for p, recs in by_row.items():
        out[p] = json.dumps(recs, ensure_ascii=False)
    return out
