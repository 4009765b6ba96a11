"""The quality warnings of a corrected day, recomputed only where the correction reaches.

Why: the four checks over a national day read every reporter's history and sum every
township and city, while a correction changes the rows of one or a few units. Each check
looks no further than one city: an outlier or a falling cumulative count is about one row
and its own unit's history; a township's total row is compared with that township's
villages; a department pair with the villages of its parent city or county. So the
warnings of every row outside the changed units' cities are what they were, and the
checks are run again on the rows of those cities only (their history, their townships'
total rows, their part of the registry). The result equals the checks over the whole
day (``tests/integration/test_quality_partial.py`` compares them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

import pandas as pd

from huizong.catalogue import Catalogue
from huizong.quality import QUALITY_RULES, issues, quality_warnings
from huizong.registry import Registry


def city_scope(registry: Registry, changed: Iterable[str]) -> tuple[set[str], Registry]:
    """The unit codes whose warnings a change of ``changed`` may alter (every unit of their
    cities, and the changed codes themselves, known to the registry or not), and the part
    of the registry the checks need for them (those units and the cities' ancestors)."""
    changed = {str(c) for c in changed}
    units = registry.units
    code = units["code"].astype("str")
    hit = units[code.isin(changed)]
    cities = set(hit["city_code"].dropna().astype("str"))
    cities |= set(hit.loc[hit["level"] == 2, "code"].astype("str"))
    inside = units["city_code"].astype("str").isin(cities).to_numpy() | code.isin(cities)
    inside |= code.isin(changed).to_numpy()
    above = set(units.loc[inside, "province_code"].dropna().astype("str"))
    part = units[inside | code.isin(above).to_numpy() | (units["level"] == 0).to_numpy()]
    return changed | set(code[inside]), Registry(units=part, root=registry.root)


def requality(
    accepted: pd.DataFrame,
    day: date,
    catalogue: Catalogue,
    registry: Registry,
    *,
    earlier: pd.DataFrame,
    changed: Iterable[str],
    history_of: Callable[[list[str]], pd.DataFrame],
    totals: pd.DataFrame | None,
) -> pd.DataFrame:
    """What :func:`quality_warnings` gives for the whole day, from ``earlier`` (the day's
    previous quality warnings) and the checks over the ``changed`` units' cities.

    ``history_of(units)``: the history frame of those reporters (``history_frame``).
    """
    scope, part = city_scope(registry, changed)
    rows = accepted[accepted["unit_code"].astype("str").isin(scope).to_numpy()]
    near = None
    if totals is not None and len(totals):
        near = totals[totals["unit_code"].astype("str").isin(scope).to_numpy()]
    units = sorted(set(rows["unit_code"].dropna().astype("str")))
    fresh = quality_warnings(rows, day, catalogue, part, history=history_of(units), totals=near)
    old = earlier[earlier["rule"].astype("str").str.startswith(QUALITY_RULES)]
    kept = old[~old["unit_code"].astype("str").isin(scope).to_numpy()]
    found = [f for f in (kept, fresh) if len(f)]
    if not found:
        return issues.empty()
    return issues.finish(pd.concat(found, ignore_index=True))


__all__ = ["city_scope", "requality"]
