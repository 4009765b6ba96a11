"""Recognise header cells: indicator codes, Chinese labels, or "标签(code)" combinations.

Templates drift: clerks retype headers, add units in brackets, use full-width brackets or
stray spaces. A header cell maps to a field if, after normalisation, it equals a known
name, or its text inside / before a trailing bracket does ("排查登记人数（人）",
"风险等级(1低2中3高)(risk_level)").
"""

from __future__ import annotations

import re
import unicodedata

from huizong.catalogue import Catalogue

#: Meta columns every submission must carry, with the names clerks use for them.
META_NAMES: dict[str, tuple[str, ...]] = {
    "unit_code": ("unit_code", "单位代码", "区划代码", "统计用区划代码", "村(社区)代码", "代码"),
    "unit_name": ("unit_name", "单位名称", "村(社区)名称", "村(社区)", "名称", "单位"),
    "period": ("period", "日期", "填报日期", "报告日期", "统计日期", "报表日期"),
}
REQUIRED_META = ("unit_code", "unit_name", "period")
META_LABELS_ZH = {"unit_code": "单位代码", "unit_name": "单位名称", "period": "日期"}

#: A header row needs at least this many recognised cells (so a title row never is one).
MIN_KNOWN = 3
#: Rows searched for the header, from the top of the sheet.
HEADER_SEARCH_ROWS = 10

_TRAILING_BRACKET = re.compile(r"^(.*)\(([^()]*)\)$")


def normalise(text: object) -> str:
    """NFKC (full-width → half-width), no whitespace, lower case, no required-marks."""
    s = unicodedata.normalize("NFKC", str(text))
    s = re.sub(r"\s+", "", s).lower()
    return s.strip("*＊")


class _Matcher:
    """Known names of one catalogue, plus a memo of header texts already seen."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue  # held so that its id() is not reused
        self.names = _names(catalogue)
        self.memo: dict[object, str | None] = {}


_MATCHERS: dict[int, _Matcher] = {}


def _matcher(catalogue: Catalogue) -> _Matcher:
    """Per-catalogue matcher; hashing a whole Catalogue per cell would dominate reading."""
    m = _MATCHERS.get(id(catalogue))
    if m is None or m.catalogue is not catalogue:
        m = _MATCHERS[id(catalogue)] = _Matcher(catalogue)
    return m


def _names(catalogue: Catalogue) -> dict[str, str]:
    names: dict[str, str] = {}
    for field, aliases in META_NAMES.items():
        for alias in aliases:
            names[normalise(alias)] = field
    for ind in catalogue.indicators:
        names[normalise(ind.code)] = ind.code
        names[normalise(ind.zh)] = ind.code
        if ind.unit:
            names[normalise(f"{ind.zh}({ind.unit})")] = ind.code
    return names


def field_for(header: object, catalogue: Catalogue) -> str | None:
    """The field (meta name or indicator code) a header cell stands for, or None."""
    if header is None:
        return None
    m = _matcher(catalogue)
    try:
        return m.memo[header]
    except KeyError:
        pass
    except TypeError:  # unhashable cell value: never a header
        return None
    found = _lookup(normalise(header), m.names)
    if len(m.memo) < 100_000:
        m.memo[header] = found
    return found


def _lookup(text: str, names: dict[str, str]) -> str | None:
    seen = 0
    while text and seen < 4:
        if text in names:
            return names[text]
        m = _TRAILING_BRACKET.match(text)
        if not m:
            return None
        outer, inner = m.group(1), m.group(2)
        if inner in names:
            return names[inner]
        text = outer
        seen += 1
    return None


def map_header(row: list[object], catalogue: Catalogue) -> list[str | None]:
    return [field_for(cell, catalogue) for cell in row]


def find_header(rows: list[list[object]], catalogue: Catalogue) -> tuple[int, list[str | None]]:
    """Index of the header row among the first rows, and its mapping; (-1, []) if none."""
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        mapped = map_header(row, catalogue)
        if sum(m is not None for m in mapped) >= MIN_KNOWN:
            return i, mapped
    return -1, []
