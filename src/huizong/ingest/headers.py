"""Recognise header cells: indicator codes, Chinese labels, or "标签(code)" combinations.

Templates drift: clerks retype headers, add units in brackets, use full-width brackets or
stray spaces. A header cell maps to a field if, after normalisation, it equals a known
name, or its text inside / before a trailing bracket does ("排查登记人数（人）",
"风险等级(1低2中3高)(risk_level)").

Two-level headers (section names merged across columns above the indicator labels, meta
labels merged down over both rows) are read by picking the row that maps best and
filling its blank cells from the rows above; an older template's labels map through
the catalogue's per-indicator ``aliases``.
"""

from __future__ import annotations

import re

from huizong.catalogue import Catalogue
from huizong.catalogue import normalise_label as normalise

#: Meta columns every submission must carry, with the names clerks use for them.
META_NAMES: dict[str, tuple[str, ...]] = {
    "unit_code": ("unit_code", "单位代码", "区划代码", "统计用区划代码", "村(社区)代码", "代码"),
    "unit_name": ("unit_name", "单位名称", "村(社区)名称", "村(社区)", "名称", "单位"),
    "period": ("period", "日期", "填报日期", "报告日期", "统计日期", "报表日期"),
}
REQUIRED_META = ("unit_code", "unit_name", "period")
META_LABELS_ZH = {"unit_code": "单位代码", "unit_name": "单位名称", "period": "日期"}


def column_labels(catalogue: Catalogue) -> dict[str, str]:
    """field code → ``中文(code)``, the column as the clerk sees it in the template header:
    the one naming of a column for ``huizong validate`` and the upload receipt alike."""
    labels = {i.code: f"{i.zh}({i.code})" for i in catalogue.indicators}
    labels.update({code: f"{zh}({code})" for code, zh in META_LABELS_ZH.items()})
    return labels


#: A header row needs at least this many recognised cells (so a title row never is one).
MIN_KNOWN = 3
#: Rows searched for the header, from the top of the sheet.
HEADER_SEARCH_ROWS = 10

_TRAILING_BRACKET = re.compile(r"^(.*)\(([^()]*)\)$")
#: Every text ``str`` gives a float or an int, lower-cased (as names are): digits, sign,
#: point, exponent, inf, nan (a superset is enough: it only decides whether to look).
_NUMBER_TEXT = re.compile(r"[-+0-9.e]*|-?inf|nan")


#: Header texts that map to nothing are remembered up to this many, then forgotten at
#: once (a national day joins every data cell with its section: unbounded, rarely seen
#: again); texts that map to a field are kept for the process's life (a vocabulary).
_MISSES_KEPT = 100_000


class _Matcher:
    """Known names of one catalogue, plus what header texts already seen map to."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue  # held so that its id() is not reused
        self.names = _names(catalogue)
        #: How many distinct fields a header can map at most (every meta and indicator).
        self.n_fields = len(set(self.names.values()))
        #: Whether any name could be the text of a number (``str`` of a float or int);
        #: if none can, a number cell never maps (most cells of the first rows are data).
        self.numbers_map = any(_NUMBER_TEXT.fullmatch(name) for name in self.names)
        self.found: dict[object, str] = {}
        self.missed: set[object] = set()

    def field(self, header: object) -> str | None:
        """The field a header cell (or joined text) stands for; remembered across files."""
        if header is None:
            return None
        try:
            hit = self.found.get(header)
            if hit is not None or header in self.missed:
                return hit
        except TypeError:  # unhashable cell value: never a header
            return None
        found = _lookup(normalise(header), self.names)
        if found is not None:
            self.found[header] = found
        else:
            if len(self.missed) >= _MISSES_KEPT:
                self.missed.clear()
            self.missed.add(header)
        return found


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
        for alias in ind.aliases:
            names.setdefault(normalise(alias), ind.code)
    return names


def field_for(header: object, catalogue: Catalogue) -> str | None:
    """The field (meta name or indicator code) a header cell stands for, or None."""
    return _matcher(catalogue).field(header)


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
    field = _matcher(catalogue).field
    return [field(cell) for cell in row]


def find_header(rows: list[list[object]], catalogue: Catalogue) -> tuple[int, list[str | None]]:
    """Index of the (last) header row among the first rows, and its mapping; (-1, []) if none.

    The row that maps the most cells wins (a section row above an indicator row maps
    fewer). Its unmapped cells are then filled from the header rows above it: a blank
    cell by the label above (a meta label merged down over two rows keeps its text only
    in the top cell), a label such as "新增" by joining it with the section name above
    ("新增" under "返乡人员" → "新增返乡人员").

    A row is not completed when even its best case cannot beat the row found so far
    (:func:`_most`): once a template's header maps every field, the data rows under it
    are not joined cell by cell with the rows above (the result is the same by
    construction; most of a national day's reading time was spent there).
    """
    head = _Head(rows[:HEADER_SEARCH_ROWS], _matcher(catalogue))
    best, best_score, best_mapped = -1, MIN_KNOWN - 1, []
    for i in range(len(head.rows)):
        if _most(head.mapped(i), head.matcher.n_fields) <= best_score:
            continue
        mapped, score = _with_rows_above(head, i)
        if score > best_score:
            best, best_score, best_mapped = i, score, mapped
    return best, best_mapped


def _most(mapped: list[str | None], n_fields: int) -> int:
    """The highest score a row whose own cells map as ``mapped`` can reach.

    Completing a row (:func:`_with_rows_above`) only adds fields the row does not map
    yet, each once, so its score is at most the cells it maps itself plus the fields it
    lacks."""
    own = [f for f in mapped if f is not None]
    return len(own) + n_fields - len(set(own))


class _Head:
    """The rows searched for a header; each row's cells mapped, blank and forward-filled
    at most once, when first needed (every row is looked at again as the row above the
    next two, and the rows a header cannot come from are never completed)."""

    def __init__(self, rows: list[list[object]], matcher: _Matcher) -> None:
        self.rows = rows
        self.matcher = matcher
        self._mapped: dict[int, list[str | None]] = {}
        self._blank: dict[int, list[bool]] = {}
        self._sections: dict[int, list[str]] = {}

    def mapped(self, i: int) -> list[str | None]:
        """The field each cell of row ``i`` maps to by itself."""
        got = self._mapped.get(i)
        if got is None:
            got = self._mapped[i] = _map_row(self.rows[i], self.matcher)
        return got

    def blank(self, i: int) -> list[bool]:
        got = self._blank.get(i)
        if got is None:
            got = self._blank[i] = [_blank(c) for c in self.rows[i]]
        return got

    def section(self, i: int) -> list[str]:
        """Row ``i`` forward-filled: section names merged across columns (calamine gives
        the text in the first cell only)."""
        if i not in self._sections:
            out, last = [], ""
            for cell, blank in zip(self.rows[i], self.blank(i), strict=True):
                if not blank:
                    last = str(cell).strip()
                out.append(last)
            self._sections[i] = out
        return self._sections[i]


def _map_row(row: list[object], matcher: _Matcher) -> list[str | None]:
    """``matcher.field`` of each cell, the memo read inline (every cell of the first ten
    rows of every file comes here; almost all were seen in an earlier file).

    A number's text (``str`` of a float or int) has no space, bracket, star or character
    NFKC would change, so it maps exactly when its lower-cased text is a name: never,
    unless some name looks like a number (``numbers_map``); not remembered either way
    (data values are many and rarely repeat; 1 == 1.0 == True would share a memo key)."""
    found, missed, field, names = matcher.found, matcher.missed, matcher.field, matcher.names
    numbers_map = matcher.numbers_map
    out: list[str | None] = []
    for cell in row:
        cls = cell.__class__
        if cls is str:
            hit = found.get(cell)
            out.append(hit if hit is not None or cell in missed else field(cell))
        elif cls is float or cls is int:
            out.append(names.get(str(cell).lower()) if numbers_map else None)
        else:
            out.append(field(cell))
    return out


def _with_rows_above(head: _Head, idx: int) -> tuple[list[str | None], int]:
    """Row ``idx``'s mapping completed from the two rows above, and its score.

    Blank cells take the label above only if the row maps something itself (directly or
    joined with its section), so that a data row under a header never scores."""
    mapped = list(head.mapped(idx))
    own = sum(m is not None for m in mapped)
    row, blank = head.rows[idx], head.blank(idx)
    seen = {f for f in mapped if f is not None}
    fills: list[tuple[int, str]] = []
    # the matcher's memo read inline: every data cell is joined with its section here
    found, missed, field = head.matcher.found, head.matcher.missed, head.matcher.field
    for up in range(idx - 1, max(idx - 3, -1), -1):
        above_mapped, above_blank = head.mapped(up), head.blank(up)
        section = head.section(up)
        for j in range(len(mapped)):
            if mapped[j] is not None:
                continue
            if j >= len(row) or blank[j]:
                if j < len(above_blank) and not above_blank[j]:
                    f = above_mapped[j]
                    if f is not None and f not in seen:
                        fills.append((j, f))
                        seen.add(f)
                continue
            if j < len(section) and section[j]:
                cell = row[j]
                for text in (f"{cell}{section[j]}", f"{section[j]}{cell}"):
                    f = found.get(text)
                    if f is None and text not in missed:
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


def header_labels(rows: list[list[object]], idx: int) -> list[str]:
    """The text of each header column: the header cell, or the nearest one above it."""
    row = rows[idx]
    out = []
    for j, cell in enumerate(row):
        text = "" if _blank(cell) else str(cell).strip()
        up = idx - 1
        while not text and up >= max(idx - 2, 0):
            above = rows[up]
            text = "" if j >= len(above) or _blank(above[j]) else str(above[j]).strip()
            up -= 1
        out.append(text)
    return out


def _blank(cell: object) -> bool:
    if cell.__class__ is str:  # most cells: skip the isinstance and str() calls
        return not cell.strip()
    return cell is None or (isinstance(cell, float) and cell != cell) or not str(cell).strip()
