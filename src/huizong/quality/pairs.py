"""Department figures that disagree with the geographic totals they should match.

Some departments report a figure the villages also report: the health commission's
cumulative confirmed cases are the same people the villages count, so the commission's
number should equal the roll-up of the villages under the geography the department
belongs to (its parent city or county). Such indicators are ``department = "beside"`` in
the catalogue (published beside the total, never added), which is also what makes the
geographic roll-up comparable: it holds the villages only.

Which departments and indicators are paired is the catalogue's ``[[pair]]`` table (a department is
matched by a part of its registry name, because department codes are per deployment).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from huizong.catalogue import Catalogue, Pair
from huizong.quality import issues
from huizong.quality.totals import village_sums
from huizong.registry import Registry
from huizong.validate.messages import KIND_EN, KIND_ZH

RULE = "department_pair"


_ANCESTOR = {2: "city_code", 3: "county_code"}


def check_pairs(pairs: tuple[Pair, ...], catalogue: Catalogue) -> None:
    """A pair only makes sense on summed, "beside" indicators (see the module docstring)."""
    for p in pairs:
        for code in (p.indicator, p.geography):
            ind = catalogue.indicator(code)
            if not ind.is_numeric or ind.across_units != "sum":
                raise ValueError(f"pair {p}: {code} is not a summed count")
        if catalogue.indicator(p.geography).department != "beside":
            raise ValueError(f"pair {p}: {p.geography} adds department values to geography")


def _catalogue_pairs(catalogue: Catalogue) -> tuple[Pair, ...]:
    return catalogue.pairs


def pair_warnings(
    accepted: pd.DataFrame,
    day: date,
    catalogue: Catalogue,
    registry: Registry,
    *,
    consolidated: pd.DataFrame | None = None,
    pairs: tuple[Pair, ...] | None = None,
) -> pd.DataFrame:
    """One warning per (department row, pair) whose value differs from its geography's.

    The geographic figure comes from ``consolidated`` (the roll-up, if it ran) or else
    from the accepted village rows of the parent's subtree.
    """
    pairs = _catalogue_pairs(catalogue) if pairs is None else pairs
    pairs = tuple(p for p in pairs if p.indicator in accepted.columns)
    if accepted.empty or not pairs:
        return issues.empty()
    check_pairs(pairs, catalogue)
    units = registry.units.drop_duplicates("code").set_index("code")
    deps = units[(units["kind"] == "department") & units["parent_code"].isin(units.index)]
    rows = accepted.reset_index(drop=True)
    code = rows["unit_code"].astype("str")
    is_dep = code.isin(deps.index).to_numpy()
    if not is_dep.any():
        return issues.empty()
    parent = code.map(deps["parent_code"]).astype("str")
    parent_level = parent.map(units["level"])
    geo_codes = sorted({p.geography for p in pairs})
    geo = _geography(accepted, registry, geo_codes, consolidated)
    names = code.map(deps["name"]).fillna("").astype("str")
    hits = []
    for p in pairs:
        match = is_dep & names.str.contains(p.department, regex=False).to_numpy()
        x = pd.to_numeric(rows[p.indicator]).to_numpy(dtype="float64", na_value=np.nan)
        key = pd.MultiIndex.from_arrays([parent, pd.Series(p.geography, index=parent.index)])
        g = geo.reindex(key)
        gv = g["value"].to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            where = np.flatnonzero(match & ~np.isnan(x) & ~np.isnan(gv) & (x != gv))
        if len(where):
            hits.append(
                pd.DataFrame(
                    {
                        "_pos": where,
                        "column": p.indicator,
                        "geography": p.geography,
                        "x": x[where],
                        "geo": gv[where],
                        "n": g["reporting"].to_numpy()[where],
                        "m": g["expected"].to_numpy()[where],
                        "parent": parent.to_numpy()[where],
                        "level": parent_level.to_numpy()[where],
                    }
                )
            )
    if not hits:
        return issues.empty()
    h = pd.concat(hits, ignore_index=True)
    zh_label, en_label = issues.labels(h["column"], catalogue)
    geo_zh, geo_en = issues.labels(h["geography"], catalogue)
    kind = h["parent"].map(units["kind"])
    pname = h["parent"].map(units["name"]).astype("str")
    x, gv, diff = issues.num(h["x"]), issues.num(h["geo"]), issues.num(h["x"] - h["geo"])
    n, m = issues.num(h["n"]), issues.num(h["m"])
    zh = issues.cat(
        "部门填报 ", zh_label, " 为 ", x, "，", pname, "（", kind.map(KIND_ZH), "）各村/社区汇总 ",
        geo_zh, " 为 ", gv, "（", n, "/", m, " 个村/社区填报），相差 ", diff,
        "（部门减汇总），两者应一致，请核实",
    )  # fmt: skip
    en = issues.cat(
        "The department reports ", en_label, " = ", x, "; the villages of ", pname, " (",
        kind.map(KIND_EN), ") add up to ", geo_en, " = ", gv, " (", n, " of ", m,
        " villages gave a value); difference ", diff,
        " (department minus geography): they should match, please check",
    )  # fmt: skip
    return issues.build(
        rows.iloc[h["_pos"].to_numpy()], day.isoformat(), h["column"], x,
        RULE + ":" + h["column"], zh, en,
    )  # fmt: skip


def _geography(
    accepted: pd.DataFrame,
    registry: Registry,
    codes: list[str],
    consolidated: pd.DataFrame | None,
) -> pd.DataFrame:
    """(unit_code, indicator) → value, reporting, expected for the cities and counties."""
    if consolidated is not None and not consolidated.empty:
        c = consolidated[consolidated["indicator"].isin(codes)]
        out = pd.DataFrame(
            {
                "value": pd.to_numeric(c["value"]).astype("float64").to_numpy(),
                "reporting": c["reporting_units"].to_numpy(),
                "expected": c["expected_units"].to_numpy(),
            },
            index=pd.MultiIndex.from_arrays([c["unit_code"].astype("str"), c["indicator"]]),
        )
        return out[~out.index.duplicated()]
    parts = []
    for by in _ANCESTOR.values():
        sums, counts, expected = village_sums(accepted, registry, codes, by)
        for code in codes:
            parts.append(
                pd.DataFrame(
                    {
                        "value": sums[code].to_numpy(dtype="float64", na_value=np.nan),
                        "reporting": counts[code].to_numpy(),
                        "expected": expected.reindex(sums.index).fillna(0).to_numpy(),
                    },
                    index=pd.MultiIndex.from_arrays(
                        [sums.index.astype("str"), pd.Index([code] * len(sums))]
                    ),
                )
            )
    return pd.concat(parts)
