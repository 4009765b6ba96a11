"""Roll-up of a random synthetic day on the real 沧州市 extract (6,094 villages, 5
departments), checked with code-prefix filters over the accepted rows (not the roll-up's
own township-first composition)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.registry import load_registry
from huizong.rollup import RollupResult, roll_up
from huizong.schedule import DEFAULT_DEADLINES
from huizong.settings import Settings

DAY = date(2020, 1, 28)


@pytest.fixture(scope="module")
def day() -> tuple[pd.DataFrame, RollupResult]:
    registry = load_registry()
    catalogue = load_catalogue()
    rng = np.random.default_rng(20200128)
    reporters = registry.reporters
    rows = reporters[rng.random(len(reporters)) < 0.9]  # ~10% missing
    n = len(rows)
    acc = pd.DataFrame(
        {
            "unit_code": rows["code"].astype("str").to_numpy(),
            "period": DAY.isoformat(),
            "received_at": pd.Timestamp("2020-01-28 06:00", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 16 * 60, n), unit="min"),
            "not_applicable": np.where(rng.random(n) < 0.05, "risk_level,problems", ""),
        }
    )
    for ind in catalogue.numeric:
        values = pd.array(rng.integers(0, 500, n), dtype="Int64")
        values[rng.random(n) < 0.15] = pd.NA
        acc[ind.code] = values
    for ind in catalogue.text:
        acc[ind.code] = pd.Series(np.where(rng.random(n) < 0.03, "缺物资", None), dtype="str")
    acc = acc.sample(frac=1.0, random_state=1).reset_index(drop=True)  # arrival order
    result = roll_up(acc, DAY, catalogue, registry, Settings())
    return acc, result


def test_every_published_sum_equals_a_code_prefix_filter(day) -> None:
    acc, result = day
    catalogue = load_catalogue()
    c = result.consolidated
    assert list(c.columns) == frames.CONSOLIDATED_COLUMNS
    assert not (c["unit_code"] == "13").any()
    is_dep = acc["unit_code"].str.contains("D")
    dep_parent = acc["unit_code"].str.split("D").str[0]
    rng = np.random.default_rng(7)
    geo = result.completeness[result.completeness["kind"] != "department"]["unit_code"]
    sample = [*rng.choice(geo.to_numpy(), 25, replace=False), "1309", "130903"]
    for unit in sample:
        villages = ~is_dep & acc["unit_code"].str.startswith(unit)
        deps = is_dep & dep_parent.str.startswith(unit)
        for ind in catalogue.numeric:
            members = villages | deps if ind.department == "add" else villages
            vals = acc.loc[members, ind.code].dropna().astype("int64")
            row = c[(c["unit_code"] == unit) & (c["indicator"] == ind.code)].iloc[0]
            assert row["reporting_units"] == len(vals)
            if vals.empty:
                assert pd.isna(row["value"])
                continue
            expected = {
                "sum": vals.sum(),
                "max": vals.max(),
                "min": vals.min(),
                "mean": vals.mean(),
            }[ind.across_units]
            assert row["value"] == pytest.approx(float(expected), rel=1e-12), (unit, ind.code)


def test_completeness_of_the_city(day) -> None:
    acc, result = day
    registry = load_registry()
    comp = result.completeness.set_index("unit_code")
    city = comp.loc["1309"]
    expected = len(registry.reporters)
    assert city["expected_units"] == expected == 6094 + 5
    assert city["reported_units"] == len(acc)
    assert city["missing_units"] == len(result.missing) == expected - len(acc)
    # each row its own file: a village's or a department's, both due by 18:00 by default
    assert DEFAULT_DEADLINES["village"] == DEFAULT_DEADLINES["department"]
    at = DEFAULT_DEADLINES["village"].isoformat()
    deadline = pd.Timestamp(f"{DAY.isoformat()} {at}", tz="Asia/Shanghai")
    assert city["on_time_units"] == int((acc["received_at"] <= deadline).sum())
    assert city["late_units"] == int((acc["received_at"] > deadline).sum())
    assert city["missing_list"].endswith(f"…等共{expected - len(acc)}个（见 missing 表）")
    # every township lists each of its missing villages
    towns = comp[comp["level"] == 4]
    towns = towns[towns["kind"] == "township"]
    listed = towns["missing_list"].str.split("; ").explode()
    listed = listed[listed != ""].str.split(" ").str[0]
    missing_villages = result.missing.loc[result.missing["kind"] == "village", "unit_code"]
    assert sorted(listed) == sorted(missing_villages)
    assert set(comp["level"]) == {2, 3, 4}
    assert ((comp["reporting_rate"] >= 0) & (comp["reporting_rate"] <= 1)).all()
