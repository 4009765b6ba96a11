"""Reporting periods beyond the day: 周报 (week), 旬报 (xun) and 月报 (month).

A period's value is computed from the *published daily reports* (the warehouse's
``report`` table, one row per reporter and day) with each indicator's ``across_time``
rule, per reporter first, and then rolled up the hierarchy with the very same
:func:`huizong.rollup.roll_up` as a day, so a period can never aggregate across units
differently from its days:

* ``sum`` (daily flows: screened today, new cases): the reporter's values over the days
  it gave one; blank on every day stays blank (未报), never 0;
* ``last`` (stocks, cumulative counts, texts): the reporter's value on the latest day
  of the period on which it gave one. A reporter that gave none on the period's last
  day (absent, or blank that day) contributes its last earlier value, and is *counted*
  in ``carried_units`` of every unit above it, so an agency sees how much of a stock is
  carried forward.

Completeness over a period counts reporter-days: ``expected_units`` x the days of the
period so far, against the reporters received on each published day (a day that was
not published at all adds to the expected, nothing to the received).
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd

from huizong.catalogue import Catalogue
from huizong.registry import Registry
from huizong.settings import Settings

PeriodType = Literal["day", "week", "xun", "month"]
PERIOD_TYPES: tuple[PeriodType, ...] = ("day", "week", "xun", "month")
PERIOD_NAMES_ZH = {"day": "日报", "week": "周报", "xun": "旬报", "month": "月报"}
_XUN_ZH = {1: "上旬", 2: "中旬", 3: "下旬"}

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_XUN = re.compile(r"^(\d{4})-(\d{2})-([123])旬$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    """One reporting period: its type, first and last calendar day, and its label."""

    type: PeriodType
    start: date
    end: date
    label: str

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(n) for n in range((self.end - self.start).days + 1)]

    def title_zh(self) -> str:
        """How a title names the period, e.g. 2020年1月中旬 or 2020年1月27日至2月2日."""
        s, e = self.start, self.end
        if self.type == "day":
            return f"{s.year}年{s.month}月{s.day}日"
        if self.type == "month":
            return f"{s.year}年{s.month}月"
        if self.type == "xun":
            return f"{s.year}年{s.month}月{_XUN_ZH[(s.day - 1) // 10 + 1]}"
        tail = f"{e.month}月{e.day}日" if e.year == s.year else f"{e.year}年{e.month}月{e.day}日"
        return f"{s.year}年{s.month}月{s.day}日至{tail}"


def _week_start(day: date, week_start: int) -> date:
    return day - timedelta((day.weekday() - week_start) % 7)


def period_of(day: date, kind: PeriodType, *, week_start: int = 0) -> Period:
    """The period of type ``kind`` that contains ``day``.

    Weeks start on ``week_start`` (0 = Monday, the default, … 6 = Sunday) and are named
    by the ISO week of their middle day, so Monday weeks are exactly ISO weeks.
    """
    if kind == "day":
        return Period("day", day, day, day.isoformat())
    if kind == "week":
        start = _week_start(day, week_start)
        year, week, _ = (start + timedelta(3)).isocalendar()
        return Period("week", start, start + timedelta(6), f"{year}-W{week:02d}")
    if kind == "xun":
        n = min((day.day - 1) // 10 + 1, 3)
        first = 1 + (n - 1) * 10
        last = calendar.monthrange(day.year, day.month)[1] if n == 3 else first + 9
        start = day.replace(day=first)
        return Period("xun", start, day.replace(day=last), f"{day:%Y-%m}-{n}旬")
    if kind == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return Period("month", day.replace(day=1), day.replace(day=last), f"{day:%Y-%m}")
    raise ValueError(f"unknown period type {kind!r}; one of {PERIOD_TYPES}")


def parse_period(text: str, *, week_start: int = 0) -> Period:
    """``2020-01-28`` | ``2020-W05`` | ``2020-01-2旬`` | ``2020-01`` → the period."""
    text = text.strip()
    try:
        if _DAY.match(text):
            return period_of(date.fromisoformat(text), "day")
        if m := _WEEK.match(text):
            monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            start = monday + timedelta((week_start + 3) % 7 - 3)
            return period_of(start, "week", week_start=week_start)
        if m := _XUN.match(text):
            return period_of(date(int(m[1]), int(m[2]), 1 + (int(m[3]) - 1) * 10), "xun")
        if m := _MONTH.match(text):
            return period_of(date(int(m[1]), int(m[2]), 1), "month")
    except ValueError as exc:
        raise ValueError(f"报告期“{text}”无效 / invalid period {text!r}: {exc}") from exc
    raise ValueError(
        f"无法识别报告期“{text}”，应为 2020-01-28、2020-W05、2020-01-2旬 或 2020-01 / "
        f"unrecognised period {text!r}: use 2020-01-28, 2020-W05, 2020-01-2旬 or 2020-01"
    )


def periods_containing(day: date, *, week_start: int = 0) -> list[Period]:
    """The week, 旬 and month that ``day`` belongs to (what a night brings up to date)."""
    return [period_of(day, k, week_start=week_start) for k in ("week", "xun", "month")]


# ---- per reporter over the days ----------------------------------------------------------


@dataclass(frozen=True)
class ReporterPeriod:
    """One row per reporter that reported at least once in the period."""

    rows: pd.DataFrame  # accepted-like: unit_code, unit_name, not_applicable, indicators
    carried: pd.DataFrame  # unit_code + one 0/1 column per numeric ``last`` indicator


def _typed(col: pd.Series, numeric: bool) -> pd.Series:
    """A numeric indicator as Int64, a text one with blanks as missing: "given" is notna."""
    if numeric:
        return pd.to_numeric(col, errors="coerce").astype("Int64")
    text = col.astype("str")
    return text.where(text.str.strip().str.len() > 0)


@dataclass(frozen=True)
class _ByReporter:
    """The period's rows sorted by reporter, then day; ``key`` and ``day`` are integer codes
    (positions in ``units`` and ``days``), so every reduction groups on integers."""

    rows: pd.DataFrame
    key: np.ndarray
    day: np.ndarray
    units: pd.Index
    days: pd.Index

    @classmethod
    def of(cls, reports: pd.DataFrame) -> _ByReporter:
        unit_ids, units = pd.factorize(reports["unit_code"].astype("str"), sort=True)
        day_ids, days = pd.factorize(reports["period"].astype("str"), sort=True)
        order = np.lexsort((day_ids, unit_ids))  # stable, as a sort by unit then day
        rows = reports.reset_index(drop=True)
        if (order != np.arange(len(order))).any():  # one day read in unit order: no copy
            rows = rows.take(order).reset_index(drop=True)
        return cls(rows, unit_ids[order], day_ids[order], pd.Index(units, dtype="str"), days)


def reporter_values(reports: pd.DataFrame, catalogue: Catalogue, through: date) -> ReporterPeriod:
    """Each reporter's period value per indicator from its daily ``report`` rows.

    ``reports`` holds the published rows of the period's days (``period`` ISO strings);
    ``through`` is the period's last day taken into account. All indicators are reduced
    in one grouped pass (a pass per indicator cost a minute per period at nation size).
    """
    return PartialPeriod.of(reports, catalogue).reporters(through)


def _ordinal(day: object) -> int:
    return date.fromisoformat(str(day)[:10]).toordinal()


@dataclass(frozen=True)
class PartialPeriod:
    """The reporters' values over some consecutive days, in a form two of which combine
    exactly (:meth:`then`): the period step folds a national month in one day at a time
    instead of holding all its report rows (578 k a day) at once.

    ``values``: one row per reporter (index: unit code, sorted), its ``unit_name``, latest
    ``received_at``, and per indicator the sum (``sum`` flows) or the latest given value;
    ``latest``: per reporter and stock (``stocks`` order) the ordinal of the latest day
    that gave it, -1 if none (what ``carried_units`` counts); ``marks``: reporter → the
    indicators it marked 不适用."""

    values: pd.DataFrame
    latest: np.ndarray
    marks: dict[str, frozenset[str]]
    present: tuple[str, ...]
    summed: frozenset[str]
    codes: tuple[str, ...]  # the catalogue's indicators, in its order
    stocks: tuple[str, ...]  # the numeric ``last`` indicators present: counted as carried

    @classmethod
    def of(cls, reports: pd.DataFrame, catalogue: Catalogue) -> PartialPeriod:
        """The rows' reduction per reporter, in one grouped pass over all indicators."""
        # only the columns reduced here: a national day's file names, sheets and row
        # numbers are not carried through the sort
        read = {"unit_code", "period", "unit_name", "received_at", "not_applicable"}
        read |= {i.code for i in catalogue.indicators}
        by = _ByReporter.of(reports[[c for c in reports.columns if c in read]])
        present = [i for i in catalogue.indicators if i.code in by.rows.columns]
        typed = pd.DataFrame(
            {i.code: _typed(by.rows[i.code], i.is_numeric) for i in present}, index=by.rows.index
        )
        summed = [i.code for i in present if i.is_numeric and i.across_time == "sum"]
        stocks = [i.code for i in present if i.is_numeric and i.code not in summed]
        values, latest = _per_reporter(by, typed, summed, stocks)
        del typed
        return cls(
            values,
            latest,
            _marks(by, {i.code for i in present}),
            tuple(i.code for i in present),
            frozenset(summed),
            tuple(i.code for i in catalogue.indicators),
            tuple(stocks),
        )

    @classmethod
    def empty(cls, catalogue: Catalogue) -> PartialPeriod:
        """No reporter yet: what a period without a published day folds to."""
        columns = ["unit_code", "unit_name", "period", "not_applicable"]
        frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in columns})
        frame["received_at"] = pd.Series([], dtype="datetime64[ns, UTC]")
        for ind in catalogue.indicators:
            frame[ind.code] = pd.Series([], dtype="Int64" if ind.is_numeric else "str")
        return cls.of(frame, catalogue)

    def then(self, later: PartialPeriod) -> PartialPeriod:
        """These days followed by ``later``'s (every day of ``later`` after every day of
        these): sums add (blank only where both are blank), the latest given value wins."""
        return self._then(later, in_place=False)

    def _then(self, later: PartialPeriod, *, in_place: bool) -> PartialPeriod:
        """:meth:`then`; ``in_place``: these values are the caller's own (:func:`_fold`)
        and are overwritten column by column, so no third copy of a national day's
        reporters is made."""
        if not len(later.values):
            return self
        if not len(self.values):
            return later
        if later.present != self.present:
            raise ValueError(f"indicators differ between days: {self.present} / {later.present}")
        units = self.values.index.union(later.values.index)
        early, late = self._on(units), later._on(units)
        own = in_place and early is self
        values = early.values if own else early.values.copy(deep=False)
        _merge_into(values, late.values, self.present, self.summed)
        latest = np.maximum(early.latest, late.latest, out=early.latest if own else None)
        marks = dict(self.marks)
        for unit, codes in later.marks.items():
            marks[unit] = marks.get(unit, frozenset()) | codes
        return dataclasses.replace(self, values=values, latest=latest, marks=marks)

    def _on(self, units: pd.Index) -> PartialPeriod:
        """The same values over ``units`` (a superset): reporters new here blank."""
        if self.values.index.equals(units):
            return self
        where = units.get_indexer(self.values.index)
        latest = np.full((len(units), len(self.stocks)), -1, dtype=np.int32)
        latest[where] = self.latest
        return dataclasses.replace(self, values=self.values.reindex(units), latest=latest)

    def reporters(self, through: date) -> ReporterPeriod:
        """The period's reporter rows as the roll-up takes them, computed through
        ``through``, and which stocks are carried from an earlier day."""
        v = self.values
        columns: dict[str, object] = {
            "unit_code": pd.Index(v.index, dtype="str"),
            "unit_name": v["unit_name"].to_numpy(),
            "received_at": v["received_at"].array,
        }
        for code in self.codes:
            columns[code] = v[code].array if code in self.present else pd.NA
        out = pd.DataFrame(columns)
        out["not_applicable"] = self._not_applicable()
        out["period"] = through.isoformat()
        carried: dict[str, object] = {"unit_code": columns["unit_code"]}
        last_day = through.toordinal()
        for n, code in enumerate(self.stocks):
            latest = self.latest[:, n]
            carried[code] = ((latest >= 0) & (latest != last_day)).astype("int64")
        return ReporterPeriod(rows=out, carried=pd.DataFrame(carried))

    def _not_applicable(self) -> pd.Series:
        """不适用 for the period: an indicator marked on some day and given on none, codes
        in catalogue order."""
        result = np.full(len(self.values), "", dtype=object)
        if self.marks:
            rows = self.values.index.get_indexer(list(self.marks))
            for row, codes in zip(rows, self.marks.values(), strict=True):
                # a value is blank exactly when no day gave it (a sum of none is blank)
                never = [c for c in self.present if c in codes]
                never = [c for c in never if pd.isna(self.values[c].iat[row])]
                result[row] = ",".join(never)
        return pd.Series(result, dtype="str")


def _merge_into(
    early: pd.DataFrame, late: pd.DataFrame, present: tuple[str, ...], summed: frozenset[str]
) -> None:
    """``early``'s columns replaced by the values of its days followed by ``late``'s
    (both over the same reporters)."""
    early["unit_name"] = late["unit_name"].combine_first(early["unit_name"])
    newer = late["received_at"].notna() & ~(late["received_at"] <= early["received_at"])
    early["received_at"] = early["received_at"].where(~newer, late["received_at"])
    for code in present:
        if code in summed:
            early[code] = early[code].add(late[code], fill_value=0)
        else:
            early[code] = late[code].combine_first(early[code])


def _per_reporter(
    by: _ByReporter, typed: pd.DataFrame, summed: list[str], stocks: list[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Per reporter: name, latest receipt and each indicator's sum or latest given value,
    and for each stock the ordinal of the latest day it was given (-1: never)."""
    given = typed[stocks].notna().to_numpy()
    ordinals = np.array([_ordinal(d) for d in by.days], dtype=np.int32)[by.day]
    latest = np.where(given, ordinals[:, None], np.int32(-1))
    del given
    if len(by.key) and (np.diff(by.key) == 0).any():  # a reporter over several days
        latest = pd.DataFrame(latest).groupby(by.key, sort=True).max().to_numpy(np.int32, copy=True)
        per_unit = typed.groupby(by.key, sort=True)
        last = [c for c in typed.columns if c not in summed]
        typed = pd.concat([per_unit[summed].sum(min_count=1), per_unit[last].last()], axis=1)
        heads = by.rows[["unit_name", "received_at"]].groupby(by.key, sort=True)
        name, received = heads["unit_name"].last(), heads["received_at"].max()
    else:  # one row per reporter (a day from the warehouse): its values as they are
        name, received = by.rows["unit_name"], by.rows["received_at"]
    columns = {"unit_name": name.to_numpy(), "received_at": received.array}
    columns.update((code, typed[code].array) for code in typed.columns)
    return pd.DataFrame(columns, index=by.units), latest


def _marks(by: _ByReporter, present: set[str]) -> dict[str, frozenset[str]]:
    """Reporter → the present indicators it marked 不适用 on some day. Marks are rare:
    only marked rows are looked at."""
    if "not_applicable" not in by.rows.columns or not present:
        return {}
    text = by.rows["not_applicable"].fillna("").astype("str")
    rows = np.flatnonzero(text.str.len().to_numpy() > 0)
    marked: dict[str, set[str]] = {}
    for unit, marks in zip(by.key[rows], text.to_numpy()[rows], strict=True):
        codes = {t.strip() for t in marks.split(",")} & present
        if codes:
            marked.setdefault(by.units[unit], set()).update(codes)
    return {unit: frozenset(codes) for unit, codes in marked.items()}


def _counting_catalogue(catalogue: Catalogue, codes: list[str]) -> Catalogue:
    """The catalogue restricted to ``codes``, every one summed: rolls up 0/1 flags as counts
    with the departments' add/beside modes of the real indicators."""
    inds = tuple(
        dataclasses.replace(i, across_units="sum", across_time="sum")
        for i in catalogue.indicators
        if i.code in codes
    )
    return dataclasses.replace(catalogue, indicators=inds, rules=(), pairs=())


# ---- the period tables ------------------------------------------------------------------

PERIOD_KEY = ["period_type", "period_start", "period_end", "period_label", "through"]


@dataclass(frozen=True)
class PeriodTables:
    consolidated: pd.DataFrame  # daily consolidated columns + period key + carried_units
    completeness: pd.DataFrame  # per unit: reporters and reporter-days


@dataclass(frozen=True)
class RolledPeriod:
    """The costly part of a period's tables: its reporters' values rolled up. It depends
    only on the published days inside the period up to ``through`` (``days``), so periods
    with the same days (the week, 旬 and month of a month's first days) share one."""

    through: date
    days: tuple[str, ...]
    consolidated: pd.DataFrame  # daily consolidated columns + carried_units, no period
    completeness: pd.DataFrame  # per unit: expected_units, reporters_reported, rate …


def _through_of(period: Period, through: date | None) -> date:
    through = min(through or period.end, period.end)
    if through < period.start:
        raise ValueError(f"{period.label}: through {through} is before the period starts")
    return through


def _iso_days(period: Period, through: date) -> set[str]:
    return {d.isoformat() for d in period.days if d <= through}


def roll_period(
    per: ReporterPeriod,
    catalogue: Catalogue,
    registry: Registry,
    settings: Settings,
    *,
    through: date,
    days: tuple[str, ...],
) -> RolledPeriod:
    """The reporters' period values (of ``days``, through ``through``) rolled up the
    hierarchy, with the count of carried stocks per unit and indicator. The caller
    passes ``per`` without keeping it, so it is freed before the main roll-up's frames
    are built."""
    from huizong.intake.config import deadlines_of
    from huizong.rollup import roll_up

    # the carried flags first, reduced to their counts, so the two national roll-ups and
    # their consolidated frames never sit in memory side by side
    flag_codes = [c for c in per.carried.columns if c != "unit_code"]
    counts = None
    if flag_codes:
        flags = roll_up(
            per.carried, through, _counting_catalogue(catalogue, flag_codes), registry, settings
        ).consolidated
        counts = flags.set_index(["unit_code", "indicator"])["value"].fillna(0)
        del flags
    rows = per.rows
    del per
    main = roll_up(rows, through, catalogue, registry, settings, deadlines_of(settings))
    del rows
    cons = main.consolidated.drop(columns=["period"])
    cons["carried_units"] = 0
    if counts is not None:
        key = pd.MultiIndex.from_arrays([cons["unit_code"], cons["indicator"]])
        cons["carried_units"] = counts.reindex(key).fillna(0).astype("int64").to_numpy()
    comp = main.completeness.drop(columns=["period", "missing_list", "on_time_units", "late_units"])
    comp = comp.rename(columns={"reported_units": "reporters_reported"})
    return RolledPeriod(through, days, cons, comp)


def _period_tables(
    period: Period, rolled: RolledPeriod, daily_completeness: pd.DataFrame, iso: set[str]
) -> PeriodTables:
    """The period's tables from its roll-up: reporter-days and the period key added to
    shallow copies (copy-on-write), so a shared roll-up stays as it was."""
    cons, comp = rolled.consolidated.copy(deep=False), rolled.completeness.copy(deep=False)
    days_in = len(iso)
    daily = daily_completeness[daily_completeness["period"].astype("str").isin(iso)]
    received = daily.groupby("unit_code")["reported_units"].sum()
    published = daily.groupby("unit_code")["period"].nunique()
    comp["days"] = days_in
    comp["days_published"] = published.reindex(comp["unit_code"]).fillna(0).astype("int64").values
    comp["reporter_days_expected"] = comp["expected_units"].astype("int64") * days_in
    comp["reporter_days_received"] = (
        received.reindex(comp["unit_code"]).fillna(0).astype("int64").to_numpy()
    )
    rate = comp["reporter_days_received"] / comp["reporter_days_expected"].where(
        comp["reporter_days_expected"] > 0
    )
    comp["reporter_days_rate"] = rate.astype("float64")
    key_values = {
        "period_type": period.type,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "period_label": period.label,
        "through": rolled.through.isoformat(),
    }
    for frame in (cons, comp):
        for n, (col, value) in enumerate(key_values.items()):
            frame.insert(n, col, value)
    return PeriodTables(consolidated=cons, completeness=comp)


#: One published day's ``report`` rows by its ISO date (the warehouse's, at the edge).
DayReader = Callable[[str], pd.DataFrame]


def consolidate_period(
    period: Period,
    reports: pd.DataFrame,
    daily_completeness: pd.DataFrame,
    catalogue: Catalogue,
    registry: Registry,
    settings: Settings,
    *,
    through: date | None = None,
) -> PeriodTables:
    """The period's consolidated values and completeness for every unit under the root.

    ``reports`` and ``daily_completeness`` are the published daily ``report`` and
    ``completeness`` rows of the period's days; ``through`` (default the period's end)
    cuts a period still under way at the last day published.
    """
    by_day = dict(tuple(reports.groupby(reports["period"].astype("str"), sort=False)))
    empty = reports.iloc[:0]
    _, _, tables = next(
        consolidate_periods(
            [(period, through)],
            lambda day: by_day.get(day, empty),
            daily_completeness,
            catalogue,
            registry,
            settings,
        )
    )
    return tables


def consolidate_periods(
    periods: list[tuple[Period, date | None]],
    read_day: DayReader,
    daily_completeness: pd.DataFrame,
    catalogue: Catalogue,
    registry: Registry,
    settings: Settings,
) -> Iterator[tuple[Period, date, PeriodTables]]:
    """(period, through, tables) of each (period, through) wanted, one at a time (a
    national month is 2 M consolidated rows), the periods with the fewest published days
    first.

    The published days are those of ``daily_completeness``; each is read by ``read_day``
    and folded into the reporters' values (:class:`PartialPeriod`), so no more than a
    day's report rows are held at once (a national month of them is 16 M rows). A longer
    period whose last days are a shorter one's (the 旬 and month around the night's week)
    reads only its earlier days and folds the shorter one's values in after them; periods
    with the same days and ``through`` share one roll-up."""
    published = set(pd.unique(daily_completeness["period"].astype("str")))
    plans = []
    for period, wanted in periods:
        through = _through_of(period, wanted)
        iso = _iso_days(period, through)
        plans.append((period, through, iso, tuple(sorted(published & iso))))
    ordered = sorted(plans, key=lambda plan: len(plan[3]))
    held: list[PartialPeriod] = []  # the values of ``held_days``, while a later period needs them
    held_days: tuple[str, ...] | None = None
    rolled: RolledPeriod | None = None
    for n, (period, through, iso, days) in enumerate(ordered):
        if rolled is None or (rolled.days, rolled.through) != (days, through):
            rolled = None  # the previous roll-up is not held while the next is computed
            if not held or held_days != days:
                _extend(held, held_days, days, read_day, catalogue)
                held_days = days
            keep = any(_ends_with(later[3], days) for later in ordered[n + 1 :])
            # popped when no later period needs them: freed before the roll-up starts
            rolled = roll_period(
                (held[0] if keep else held.pop()).reporters(through),
                catalogue,
                registry,
                settings,
                through=through,
                days=days,
            )
        yield period, through, _period_tables(period, rolled, daily_completeness, iso)


def _ends_with(days: tuple[str, ...], tail: tuple[str, ...]) -> bool:
    return len(days) >= len(tail) and days[len(days) - len(tail) :] == tail


def _extend(
    held: list[PartialPeriod],
    held_days: tuple[str, ...] | None,
    days: tuple[str, ...],
    read_day: DayReader,
    catalogue: Catalogue,
) -> None:
    """Leave in ``held`` the reporters' values over ``days``: when the values held are
    of the last of ``days``, only the days before them are read and folded in first."""
    if held and held_days is not None and _ends_with(days, held_days):
        head = _fold(days[: len(days) - len(held_days)], read_day, catalogue)
        held[0] = head.then(held[0])
    else:
        held[:] = [_fold(days, read_day, catalogue)]


def _fold(days: tuple[str, ...], read_day: DayReader, catalogue: Catalogue) -> PartialPeriod:
    """The reporters' values over ``days`` (ascending), one day's rows in memory at a time."""
    folded = PartialPeriod.empty(catalogue)
    for day in days:  # the first day's values are this fold's own: later days overwrite them
        folded = folded._then(PartialPeriod.of(read_day(day), catalogue), in_place=True)
    return folded


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def week_start_of(settings: Settings) -> int:
    """``settings.week_start`` (``HUIZONG_WEEK_START``): mon (default) … sun, or 0–6; the
    first day of a 周报 week, the same for the night, the CLI and the downloads page."""
    raw = (settings.week_start or "mon").strip().lower()
    if raw[:3] in WEEKDAYS:
        return WEEKDAYS.index(raw[:3])
    if raw.isdigit() and 0 <= int(raw) <= 6:
        return int(raw)
    raise ValueError(f"HUIZONG_WEEK_START={raw!r}：请用 mon … sun 或 0–6 / use mon … sun or 0–6")


def week_start_from_env() -> int:
    """:func:`week_start_of` the environment's settings."""
    return week_start_of(Settings.from_env())
