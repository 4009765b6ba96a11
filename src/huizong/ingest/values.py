"""Turn the cells clerks typed into indicator values, vectorised over whole columns.

Clerks write counts in many ways. Each cell ends in exactly one of four states, and the
first three must never be confused:

* a number (``0`` is a real report, 零报告),
* blank: not reported (NA, nothing recorded),
* not applicable (NA, and the indicator code listed in ``not_applicable``),
* an error: NA plus an entry in ``cell_errors`` so the clerk sees what was rejected.

Every change made to a cell on the way to a number (full-width digits, thousands
separators, ...) is recorded in ``coercions`` so that it can be audited. The text rules
are a plain ordered table (:data:`TEXT_RULES`) so that later issues can add rules
(units after numbers, Chinese numerals, placeholders) without touching the machinery.

Everything here works on whole columns: the common case (a clean number) costs one
``pd.to_numeric`` call; only cells that are not plain numbers go down the rule chain.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Written in a count cell, these mean "this indicator does not apply to us".
NOT_APPLICABLE_TOKENS = frozenset(
    {"不适用", "n/a", "na", "/", "not applicable", "无此项", "不涉及", "-/-"}
)

#: Integers beyond this are not exact in float64, and no indicator comes near it.
_MAX_EXACT = 2**53


@dataclass(frozen=True)
class TextRule:
    """One rewrite of a cell's text on its way to a number.

    ``apply`` receives the current text of the still-unparsed cells (``str`` Series, NA
    for cells the rule does not concern is allowed in the output) and returns the
    rewritten text, NA where the rule does not match. A rule that matches is recorded as a
    coercion (``rule`` = ``name``) if the cell finally parses.
    """

    name: str
    apply: Callable[[pd.Series, str], pd.Series]
    zh: str
    en: str


def _fullwidth(text: pd.Series, unit: str) -> pd.Series:
    """Full-width digits, signs and separators (１２，３４５) become ASCII (NFKC)."""
    norm = text.str.normalize("NFKC")
    return norm.where(norm != text)


_THOUSANDS = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"


def _thousands(text: pd.Series, unit: str) -> pd.Series:
    """``1,234`` → ``1234``: only well-formed groups of three, so ``1,2`` stays an error."""
    stripped = text.str.strip()
    hit = stripped.str.match(_THOUSANDS, na=False)
    return stripped.str.replace(",", "", regex=False).where(hit)


#: Applied in order to cells that are not already plain numbers. Each rule sees the
#: output of the previous ones. Extend here (e.g. "56人" units, 一百二十, ☆ placeholders).
TEXT_RULES: list[TextRule] = [
    TextRule("fullwidth", _fullwidth, "全角字符已转为半角", "full-width characters normalised"),
    TextRule("thousands", _thousands, "去掉千位分隔符", "thousands separators removed"),
]


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
        return _finish(nums, blank, np.zeros(n, bool), arr, column, {}, [])

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
            is_bool = np.fromiter(
                (isinstance(arr[i], (bool, np.bool_)) for i in maybe_bool), bool, len(maybe_bool)
            )
            nums[maybe_bool[is_bool]] = np.nan
    pending = np.flatnonzero(np.isnan(nums) & ~missing)
    blank = missing.copy()
    na_mask = np.zeros(n, bool)
    rules_hit: dict[int, list[str]] = {}
    unparsed: list[int] = []
    if len(pending):
        text = pd.Series(arr[pending], dtype=object).map(_raw_text).astype("str")
        stripped = text.str.strip()
        is_blank = (stripped == "").to_numpy()
        blank[pending[is_blank]] = True
        lowered = stripped.str.normalize("NFKC").str.strip().str.lower()
        is_na = lowered.isin(NOT_APPLICABLE_TOKENS).to_numpy() & ~is_blank
        na_mask[pending[is_na]] = True
        todo = ~(is_blank | is_na)
        cur = stripped[todo]
        pos = pending[todo]
        hits = pd.DataFrame(index=cur.index)
        for rule in TEXT_RULES:
            out = rule.apply(cur, unit)
            matched = out.notna()
            hits[rule.name] = matched.to_numpy()
            cur = out.where(matched, cur)
        parsed = pd.to_numeric(cur, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        nums[pos] = parsed
        ok = ~np.isnan(parsed)
        names = list(hits.columns)
        if names and ok.any():
            hit_arr = hits.to_numpy()
            for j in np.flatnonzero(ok & hit_arr.any(axis=1)):
                rules_hit[int(pos[j])] = [names[k] for k in np.flatnonzero(hit_arr[j])]
        unparsed = [int(p) for p in pos[~ok]]
    return _finish(nums, blank, na_mask, arr, column, rules_hit, unparsed)


def _finish(
    nums: np.ndarray,
    blank: np.ndarray,
    na_mask: np.ndarray,
    arr: np.ndarray,
    column: str,
    rules_hit: dict[int, list[str]],
    unparsed: list[int],
) -> ParsedColumn:
    errors: list[tuple[int, dict]] = []
    for p in unparsed:
        errors.append((p, _err(column, arr[p], "无法识别为数字", "not a number")))
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
        for p, names in sorted(rules_hit.items())
        if good[p]
    ]
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
