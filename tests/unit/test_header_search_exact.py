"""The header search skips work only where the result cannot change (issue 11).

``find_header`` no longer completes rows that cannot beat the best row so far, and maps
number cells without the label memo. The oracle here is the search as it was before:
every one of the first ten rows completed from the two rows above, every cell looked up
(normalise + ``_lookup``, no memo). Both must give the same (index, mapping) on any head
built from the catalogue's labels, sections, "label(code)" joins, data cells and blanks,
on the generated demo day's workbooks, and when a name looks like a number.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huizong.catalogue import load_catalogue
from huizong.catalogue import normalise_label as normalise
from huizong.ingest import headers

CAT = load_catalogue()


def _oracle(rows: list[list[object]], names: dict[str, str]) -> tuple[int, list[str | None]]:
    """find_header before issue 11's pruning, without any memo."""

    def field(cell: object) -> str | None:
        if cell is None:
            return None
        try:
            hash(cell)
        except TypeError:
            return None
        return headers._lookup(normalise(cell), names)

    head = rows[: headers.HEADER_SEARCH_ROWS]
    mapped_rows = [[field(c) for c in row] for row in head]
    blanks = [[headers._blank(c) for c in row] for row in head]

    def section(i: int) -> list[str]:
        out, last = [], ""
        for cell, blank in zip(head[i], blanks[i], strict=True):
            if not blank:
                last = str(cell).strip()
            out.append(last)
        return out

    def complete(idx: int) -> tuple[list[str | None], int]:
        mapped = list(mapped_rows[idx])
        own = sum(m is not None for m in mapped)
        row, blank = head[idx], blanks[idx]
        seen = {f for f in mapped if f is not None}
        fills = []
        for up in range(idx - 1, max(idx - 3, -1), -1):
            sec = section(up)
            for j in range(len(mapped)):
                if mapped[j] is not None:
                    continue
                if j >= len(row) or blank[j]:
                    if j < len(blanks[up]) and not blanks[up][j]:
                        f = mapped_rows[up][j]
                        if f is not None and f not in seen:
                            fills.append((j, f))
                            seen.add(f)
                    continue
                if j < len(sec) and sec[j]:
                    for text in (f"{row[j]}{sec[j]}", f"{sec[j]}{row[j]}"):
                        f = field(text)
                        if f is not None and f not in seen:
                            mapped[j] = f
                            seen.add(f)
                            own += 1
                            break
        if own == 0:
            return mapped, 0
        for j, f in fills:
            if mapped[j] is None:
                mapped[j] = f
        return mapped, sum(m is not None for m in mapped)

    best, best_score, best_mapped = -1, headers.MIN_KNOWN - 1, []
    for i in range(len(head)):
        mapped, score = complete(i)
        if score > best_score:
            best, best_score, best_mapped = i, score, mapped
    return best, best_mapped


_IND = CAT.indicators
_LABELS = [
    *(a for names in headers.META_NAMES.values() for a in names),
    *(i.zh for i in _IND),
    *(i.code for i in _IND),
    *(f"{i.zh}({i.unit})" for i in _IND if i.unit),
    *(a for i in _IND for a in i.aliases),
    *(f"{i.zh}({i.code})" for i in _IND[:8]),
    "风险等级(1低2中3高)(risk_level)",
    "(risk_level)",
    "(persons_screened)",
    "返乡人员",
    "新增",
    "累计",
    " 单位 名称（全称） ",
    "存在问题",
]
_CELLS = st.one_of(
    st.sampled_from(_LABELS),
    st.sampled_from(["", " ", None, "XX镇疫情防控工作日报表", "填报日期：2020年1月28日"]),
    st.sampled_from(["130902001001", "合计", "5", "1.0", "true", "5(risk_level)"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-5, max_value=10**6),
    st.booleans(),
    st.just(datetime(2020, 1, 28)),
    st.just(date(2020, 1, 28)),
)


def _rows(width: int) -> st.SearchStrategy[list[list[object]]]:
    return st.lists(st.lists(_CELLS, min_size=width, max_size=width), max_size=12)


_FULL = ["单位代码", "单位名称", "日期", *(i.zh for i in _IND)]


def _template_head(values: list[list[object]], drop: set[int] = frozenset()) -> list[list[object]]:
    """A township template: title, date, a header (``drop``: columns left blank), then
    data rows (a row given as ``"HEADER"`` is the full header again)."""
    header = ["" if j in drop else label for j, label in enumerate(_FULL)]
    width = len(header)
    return [
        ["XX镇疫情防控工作日报表", *[""] * (width - 1)],
        ["填报日期：2020-01-28", *[""] * (width - 1)],
        header,
        *[list(_FULL) if row == "HEADER" else (row + [""] * width)[:width] for row in values],
    ]


_DATA_ROWS = st.lists(
    st.one_of(st.lists(_CELLS, min_size=3, max_size=12), st.just("HEADER")), max_size=9
)


@settings(deadline=None, max_examples=300)
@given(_DATA_ROWS, st.sets(st.integers(min_value=0, max_value=len(_FULL) - 1), max_size=4))
def test_rows_under_a_header(values: list, drop: set[int]) -> None:
    """The case the pruning is for: data rows under a header that maps every field (or
    all but a few), data cells that map when joined with the header above, and a full
    header again further down (it wins only if it maps more)."""
    rows = _template_head(values, drop)
    names = headers._matcher(CAT).names
    assert headers.find_header(rows, CAT) == _oracle(rows, names)


@pytest.mark.parametrize("drop", [{5}, {3, 4}, {0}, set()])
def test_a_fuller_header_further_down_wins(drop: set[int]) -> None:
    rows = _template_head([[1.0] * len(_FULL), "HEADER", [2.0] * len(_FULL)], drop)
    names = headers._matcher(CAT).names
    got = headers.find_header(rows, CAT)
    assert got == _oracle(rows, names)
    assert got[0] == (4 if drop else 2)


def test_a_name_that_looks_like_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    """If a name were the text of a number, number cells must map through it again."""
    matcher = headers._Matcher(CAT)
    matcher.names = {**matcher.names, "5": "persons_screened", "2.0": "masks_in_stock"}
    matcher.numbers_map = True
    monkeypatch.setattr(headers, "_matcher", lambda _cat: matcher)
    rows = [
        ["单位代码", "单位名称", "日期", 5, 2.0, ""],
        ["1", "a", "2020-01-28", 5.0, 2, 3],
        ["单位代码", "单位名称", "日期", 5, 2.0, "新增返乡人员"],
    ]
    got = headers.find_header(rows, CAT)
    assert got == _oracle(rows, matcher.names)
    assert got[1][3:5] == ["persons_screened", "masks_in_stock"]
    assert not headers._Matcher(CAT).numbers_map  # the real catalogue has no such name


def test_demo_day_workbooks(tmp_path: Path) -> None:
    """Every sheet of a generated demo day: same header row and mapping as before."""
    from python_calamine import CalamineWorkbook

    from huizong.demo import generate_demo_day

    files = generate_demo_day(date(2020, 1, 28), tmp_path)
    names = headers._matcher(CAT).names
    checked = 0
    for path in files:
        if Path(path).suffix != ".xlsx":
            continue
        wb = CalamineWorkbook.from_path(str(path))
        for sheet in wb.sheet_names:
            rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            assert headers.find_header(rows, CAT) == _oracle(rows, names), (path, sheet)
            checked += 1
    assert checked > 10
