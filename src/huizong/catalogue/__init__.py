"""Indicator catalogue: what a report form contains and how each indicator aggregates.

The catalogue is data (a TOML file per report form) so that new forms can be added
without code; this module only loads and checks it.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

AcrossUnits = Literal["sum", "max", "min", "mean", "text"]
AcrossTime = Literal["sum", "last"]
DepartmentMode = Literal["add", "beside"]

DEFAULT_FORM = "epidemic_daily"


@dataclass(frozen=True)
class Section:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Indicator:
    code: str
    zh: str
    en: str
    unit: str
    section: str
    across_units: AcrossUnits
    across_time: AcrossTime
    department: DepartmentMode
    kind: Literal["count", "text"] = "count"
    min: int = 0
    max: int | None = None
    warn_above: int | None = None
    #: Labels older template versions used for this indicator (headers still accepted).
    aliases: tuple[str, ...] = ()
    #: Decimals a person reads the figure to (a rate ``97.1%``); counts are whole numbers.
    decimals: int = 0

    @property
    def is_numeric(self) -> bool:
        return self.kind == "count"


@dataclass(frozen=True)
class Rule:
    """A cross-field rule: ``left op right`` on one row."""

    code: str
    left: str
    op: Literal["<=", "<", ">=", ">"]
    right: str
    severity: Literal["error", "warning"]
    zh: str
    en: str


@dataclass(frozen=True)
class Pair:
    """A department's figure that should equal the villages' roll-up under its parent.

    E.g. a health commission's cumulative confirmed cases vs the geographic total; a
    mismatch is a warning for stewards, never a correction.
    """

    department: str  # part of the department's registry name, e.g. "卫生健康"
    indicator: str
    geography: str


@dataclass(frozen=True)
class Catalogue:
    form: str
    title_zh: str
    title_en: str
    version: int
    sections: tuple[Section, ...]
    indicators: tuple[Indicator, ...]
    rules: tuple[Rule, ...] = field(default_factory=tuple)
    pairs: tuple[Pair, ...] = field(default_factory=tuple)
    #: (older wording, current wording) of terms renamed between template versions,
    #: e.g. 武汉 → 重点地区: used to compare an alias with the current labels.
    renamed_terms: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def numeric(self) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.is_numeric)

    @property
    def text(self) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if not i.is_numeric)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)

    def indicator(self, code: str) -> Indicator:
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise KeyError(f"unknown indicator {code!r} in form {self.form!r}")

    def section(self, code: str) -> Section:
        for sec in self.sections:
            if sec.code == code:
                return sec
        raise KeyError(f"unknown section {code!r} in form {self.form!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CatalogueError(ValueError):
    """The catalogue file contradicts itself; raised at load, never at run time."""


def parse_catalogue(data: dict[str, Any]) -> Catalogue:
    sections = tuple(Section(**s) for s in data.get("section", []))
    indicators = tuple(
        Indicator(**{**i, "aliases": tuple(i.get("aliases", ()))})
        for i in data.get("indicator", [])
    )
    rules = tuple(Rule(**r) for r in data.get("rule", []))
    pairs = tuple(Pair(**p) for p in data.get("pair", []))
    cat = Catalogue(
        form=data["form"],
        title_zh=data["title_zh"],
        title_en=data["title_en"],
        version=int(data["version"]),
        sections=sections,
        indicators=indicators,
        rules=rules,
        pairs=pairs,
        renamed_terms=tuple((str(k), str(v)) for k, v in data.get("renamed_terms", {}).items()),
    )
    _check(cat)
    return cat


def _check(cat: Catalogue) -> None:
    codes = [i.code for i in cat.indicators]
    if len(set(codes)) != len(codes):
        raise CatalogueError("duplicate indicator codes")
    labels = [i.zh for i in cat.indicators] + [a for i in cat.indicators for a in i.aliases]
    if len(set(labels)) != len(labels):
        raise CatalogueError("duplicate Chinese labels or aliases: headers would be ambiguous")
    section_codes = {s.code for s in cat.sections}
    by_code = {i.code: i for i in cat.indicators}
    for ind in cat.indicators:
        if ind.section not in section_codes:
            raise CatalogueError(f"{ind.code}: unknown section {ind.section}")
        if (ind.kind == "text") != (ind.across_units == "text"):
            raise CatalogueError(f"{ind.code}: text indicators, and only they, aggregate as text")
        if ind.max is not None and ind.max < ind.min:
            raise CatalogueError(f"{ind.code}: max below min")
    for pair in cat.pairs:
        for side in (pair.indicator, pair.geography):
            ind = by_code.get(side)
            if ind is None or ind.across_units != "sum":
                raise CatalogueError(f"pair {pair}: {side} is not a summed indicator")
        if by_code[pair.geography].department != "beside":
            raise CatalogueError(f"pair {pair}: departments already add into {pair.geography}")
    for rule in cat.rules:
        for side in (rule.left, rule.right):
            if side not in by_code or not by_code[side].is_numeric:
                raise CatalogueError(f"rule {rule.code}: {side} is not a numeric indicator")
    _check_aliases(cat)


def normalise_label(text: object) -> str:
    """A label as headers are compared: NFKC (full-width → half-width), no whitespace,
    lower case, no required-marks (*)."""
    s = unicodedata.normalize("NFKC", str(text))
    s = _WHITESPACE.sub("", s).lower()  # compiled once: every header cell of a day comes here
    return s.strip("*＊")


_WHITESPACE = re.compile(r"\s+")


def resemblance(alias: str, label: str, renamed_terms: tuple[tuple[str, str], ...] = ()) -> float:
    """How much an older label looks like a current one (difflib ratio, 0–1), after
    writing the renamed terms the current way."""
    from difflib import SequenceMatcher

    for old, new in renamed_terms:
        alias = alias.replace(old, new)
    return SequenceMatcher(None, normalise_label(alias), normalise_label(label)).ratio()


def _check_aliases(cat: Catalogue) -> None:
    """Every alias must resemble its own indicator's label more than any other's: an
    alias on the wrong indicator (卡口数 on people screened) silently moves a column."""
    for ind in cat.indicators:
        for alias in ind.aliases:
            scores = {o.code: resemblance(alias, o.zh, cat.renamed_terms) for o in cat.indicators}
            rivals = [c for c, s in scores.items() if s >= scores[ind.code] and c != ind.code]
            if rivals:
                rival = max(rivals, key=scores.__getitem__)
                raise CatalogueError(
                    f"alias {alias!r} of {ind.code} resembles the label of {rival} "
                    f"({cat.indicator(rival).zh}) as much or more: move it or rename the term"
                )


@cache
def load_catalogue(form: str = DEFAULT_FORM) -> Catalogue:
    """Load a report form's catalogue shipped with the package."""
    text = resources.files(__package__).joinpath(f"{form}.toml").read_text(encoding="utf-8")
    return parse_catalogue(tomllib.loads(text))
