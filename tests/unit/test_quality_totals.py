"""A township's own total row against the sum of its accepted villages."""

from __future__ import annotations

from datetime import date

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.quality import registry_of, typed
from huizong.catalogue import load_catalogue
from huizong.quality.totals import township_total_warnings
from huizong.registry import Registry

CAT = load_catalogue()
DAY = date(2020, 2, 20)
UNITS = [  # code, name, level, kind, parent
    ("1309", "沧州市", 2, "city", "13"),
    ("130903", "运河区", 3, "county", "1309"),
    ("130903001", "水月寺街道", 4, "township", "130903"),
    ("130903001001", "甲村", 5, "village", "130903001"),
    ("130903001002", "乙村", 5, "village", "130903001"),
    ("130903001003", "丙村", 5, "village", "130903001"),
    ("130903001004", "丁村", 5, "village", "130903001"),  # does not report today
    ("130903002", "南环中路街道", 4, "township", "130903"),
    ("130903002001", "戊社区", 5, "village", "130903002"),
    ("130903002002", "己社区", 5, "village", "130903002"),
]


def registry() -> Registry:
    return registry_of(UNITS, root="1309")


def accepted() -> pd.DataFrame:
    vals = {  # persons_screened, confirmed_total, followup_rate
        "130903001001": (100, 1, 90),
        "130903001002": (200, 2, 80),
        "130903001003": (220, None, 100),
        "130903002001": (30, 0, 50),
        "130903002002": (40, 0, 50),
    }
    rows = [
        {
            "file_id": "a" * 64,
            "file_name": "水月寺街道.xlsx",
            "sheet": "日报表",
            "row_number": 4 + k,
            "unit_code": code,
            "unit_name": "",
            "period": DAY.isoformat(),
            "persons_screened": s,
            "confirmed_total": c,
            "followup_rate": f,
        }
        for k, (code, (s, c, f)) in enumerate(vals.items())
    ]
    return typed(pd.DataFrame(rows), CAT)


def totals() -> pd.DataFrame:
    """The clerks' own total rows (合计), as ingest passes them on."""
    return typed(
        pd.DataFrame(
            {
                "file_id": ["a" * 64, "b" * 64, "c" * 64],
                "file_name": ["水月寺街道.xlsx", "南环中路街道.xlsx", "水月寺街道旧.xlsx"],
                "sheet": "日报表",
                "row_number": [9, 6, 9],
                "unit_code": ["130903001", "130903002", "130903001"],
                "unit_name": ["水月寺街道合计", "南环中路街道合计", "水月寺街道合计"],
                "period": [DAY.isoformat(), DAY.isoformat(), "2020-02-19"],
                # 500 vs 520: planted; 70 = 30 + 40: clean; an older day: ignored
                "persons_screened": [500, 70, 1],
                "confirmed_total": [3, 0, 99],  # 3 = 1 + 2 (丙村 blank): clean
                "followup_rate": [77, 1, 1],  # a mean, never summed: clean
                "households_visited": [50, pd.NA, 1],  # no village gave a value: clean
            }
        ),
        CAT,
    )


def test_a_total_row_that_disagrees_is_found_with_both_figures_and_the_difference():
    out = township_total_warnings(accepted(), DAY, CAT, registry(), totals())
    keys = ["unit_code", "column", "rule", "value", "file_id", "row_number"]
    assert out[keys].values.tolist() == [
        ["130903001", "persons_screened", "township_total:persons_screened", "500", "a" * 64, 9]
    ]
    assert out["message_zh"].iloc[0] == (
        "乡镇/街道自报合计行 排查登记人数 为 500，所属村/社区已接收数据相加为 520"
        "（3/4 个村/社区填报），相差 -20（合计减村相加），请核实合计行或村/社区数据"
    )
    assert out["message_en"].iloc[0] == (
        "The township's own total row gives People screened and registered = 500; its "
        "villages' accepted rows add up to 520 (3 of 4 villages gave a value); difference "
        "-20 (total minus villages): check the total row or the village rows"
    )
    assert out["unit_name"].tolist() == ["水月寺街道合计"]


def test_no_totals_and_agreeing_totals_give_nothing():
    acc = accepted()
    assert township_total_warnings(acc, DAY, CAT, registry(), None).empty
    agree = totals().iloc[[1]]
    assert township_total_warnings(acc, DAY, CAT, registry(), agree).empty


def _sums_by_groupby(accepted: pd.DataFrame, registry: Registry, codes: list[str], by: str):
    """The oracle: the same sums and counts by pandas' group-by (what the step did)."""
    units = registry.units.drop_duplicates("code").set_index("code")
    villages = units[units["level"] == 5]
    rows = accepted[["unit_code", *codes]]
    rows = rows[rows["unit_code"].isin(villages.index).to_numpy(dtype=bool)]
    key = rows["unit_code"].map(villages[by]).astype("str")
    grouped = rows[codes].apply(pd.to_numeric).astype("Int64").groupby(key.to_numpy())
    return grouped.sum(min_count=1), grouped.count(), villages.groupby(by).size()


_SHIPPED = None


def _shipped() -> Registry:
    global _SHIPPED
    if _SHIPPED is None:
        from huizong.registry import load_registry

        _SHIPPED = load_registry()
    return _SHIPPED


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6000), st.one_of(st.none(), st.integers(0, 10**12))),
        max_size=300,
    ),
    st.sampled_from(["township_code", "county_code", "city_code"]),
)
def test_village_sums_equal_a_group_by_of_the_villages(picks, by: str) -> None:
    """Sums (NA where no village gave one), counts and expected villages per ancestor, on
    the shipped 沧州市 registry, with departments, unknown codes and repeats among the rows."""
    from huizong.quality.totals import village_sums

    registry = _shipped()
    units = registry.units["code"].tolist()
    rows = pd.DataFrame(
        {
            "unit_code": [units[n % len(units)] if n < 6000 else "999999999999" for n, _ in picks],
            "a": pd.array([v for _, v in picks], dtype="Int64"),
            "b": pd.array([None if v is None else str(v % 97) for _, v in picks], dtype="str"),
        }
    )
    got = village_sums(rows, registry, ["a", "b"], by)
    want = _sums_by_groupby(rows, registry, ["a", "b"], by)
    for mine, theirs in zip(got, want, strict=True):
        if isinstance(mine, pd.DataFrame):
            pd.testing.assert_frame_equal(mine, theirs, check_index_type=False)
        else:
            pd.testing.assert_series_equal(mine, theirs)
