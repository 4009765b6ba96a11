"""A township's own total row against the sum of its accepted villages."""

from __future__ import annotations

from datetime import date

import pandas as pd

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
