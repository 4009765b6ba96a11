"""Department figures against the geographic roll-up they pair with; and the entry point."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from helpers.quality import registry_of, typed
from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.publish.warehouse import SPECS, load_frame
from huizong.quality import Pair, pair_warnings, quality_warnings
from huizong.quality.pairs import check_pairs
from huizong.registry import Registry
from huizong.validate.rows import empty_issues

CAT = load_catalogue()
DAY = date(2020, 2, 20)
UNITS = [  # code, name, level, kind, parent
    ("1309", "沧州市", 2, "city", "13"),
    ("130902", "新华区", 3, "county", "1309"),
    ("130902001", "建设北街街道", 4, "township", "130902"),
    ("130902001001", "庚社区", 5, "village", "130902001"),
    ("130903", "运河区", 3, "county", "1309"),
    ("130903001", "水月寺街道", 4, "township", "130903"),
    ("130903001001", "甲村", 5, "village", "130903001"),
    ("130903001002", "乙村", 5, "village", "130903001"),
    ("130903001003", "丙村", 5, "village", "130903001"),
    ("1309D01", "沧州市卫生健康委员会", 3, "department", "1309"),
    ("1309D02", "沧州市教育局", 3, "department", "1309"),
    ("130903D02", "运河区卫生健康局", 4, "department", "130903"),
]
VILLAGES = {"130902001001": 10, "130903001001": 7, "130903001002": 8, "130903001003": None}


def registry() -> Registry:
    return registry_of(UNITS, root="1309")


def accepted(departments: dict[str, dict[str, int]]) -> pd.DataFrame:
    """Villages' confirmed_total: 新华区 10, 运河区 7 + 8 (+ a blank) = 15, 沧州市 25."""
    rows = [{"unit_code": c, "confirmed_total": v} for c, v in VILLAGES.items()]
    rows += [{"unit_code": c, **vals} for c, vals in departments.items()]
    frame = pd.DataFrame(rows)
    frame.insert(0, "file_id", [f"{k:064d}" for k in range(len(frame))])
    frame["file_name"] = frame["unit_code"] + ".xlsx"
    frame["sheet"] = "日报表"
    frame["row_number"] = 4
    frame["unit_name"] = frame["unit_code"].map(registry().names())
    frame["period"] = DAY.isoformat()
    return typed(frame, CAT)


DEPARTMENTS = {
    "1309D01": {"confirmed_total": 27, "suspected_cases": 3},  # 27 vs 25: planted
    "130903D02": {"confirmed_total": 15},  # = 7 + 8: clean
    "1309D02": {"confirmed_total": 99},  # education bureau: not paired
}


def consolidated() -> pd.DataFrame:
    """The roll-up's rows for the paired indicators (beside: villages only)."""
    rows = [
        ("1309", "confirmed_total", 25.0, 3, 4),
        ("130903", "confirmed_total", 15.0, 2, 3),
        ("130902", "confirmed_total", 10.0, 1, 1),
        ("1309", "suspected_cases", float("nan"), 0, 4),
    ]
    return pd.DataFrame(
        rows, columns=["unit_code", "indicator", "value", "reporting_units", "expected_units"]
    )


def test_shipped_pairs_are_summed_beside_indicators():
    assert len(CAT.pairs) == 3
    check_pairs(CAT.pairs, CAT)
    with pytest.raises(ValueError, match="adds department values"):
        check_pairs((Pair("卫生健康", "temperature_checks", "temperature_checks"),), CAT)


@pytest.mark.parametrize("source", ["accepted", "consolidated"])
def test_a_department_figure_off_its_geography_is_found_with_both_and_the_difference(source):
    cons = consolidated() if source == "consolidated" else None
    out = pair_warnings(accepted(DEPARTMENTS), DAY, CAT, registry(), consolidated=cons)
    assert out[["unit_code", "column", "rule", "value"]].values.tolist() == [
        ["1309D01", "confirmed_total", "department_pair:confirmed_total", "27"]
    ]
    assert out["message_zh"].iloc[0] == (
        "部门填报 累计确诊病例 为 27，沧州市（市）各村/社区汇总 累计确诊病例 为 25"
        "（3/4 个村/社区填报），相差 2（部门减汇总），两者应一致，请核实"
    )
    assert out["message_en"].iloc[0] == (
        "The department reports Confirmed cases, cumulative = 27; the villages of 沧州市 "
        "(city) add up to Confirmed cases, cumulative = 25 (3 of 4 villages gave a value); "
        "difference 2 (department minus geography): they should match, please check"
    )


def test_matching_departments_give_nothing():
    agree = {"1309D01": {"confirmed_total": 25}, "130903D02": {"confirmed_total": 15}}
    assert pair_warnings(accepted(agree), DAY, CAT, registry()).empty


def test_quality_warnings_gathers_every_check_in_the_issue_contract():
    acc = accepted(DEPARTMENTS)
    acc.loc[acc["unit_code"] == "130903001001", "persons_screened"] = 500
    hist = typed(
        pd.DataFrame(
            {
                "period": [(DAY - timedelta(days=a)).isoformat() for a in range(1, 8)],
                "unit_code": "130903001001",
                "persons_screened": 0,
                "confirmed_total": 9,  # today 7: down
            }
        ),
        CAT,
    )
    totals = typed(
        pd.DataFrame(
            {
                "file_id": ["t" * 64],
                "file_name": "水月寺街道.xlsx",
                "sheet": "日报表",
                "row_number": [9],
                "unit_code": "130903001",
                "unit_name": "水月寺街道",
                "period": DAY.isoformat(),
                "confirmed_total": [16],  # villages: 15
            }
        ),
        CAT,
    )
    out = quality_warnings(acc, DAY, CAT, registry(), history=hist, totals=totals)
    assert list(out.columns) == frames.ISSUE_COLUMNS
    assert out[["unit_code", "rule", "value"]].values.tolist() == [  # in row-key order
        ["130903001001", "cumulative_down:confirmed_total", "7"],
        ["130903001001", "outlier:persons_screened", "500"],
        ["1309D01", "department_pair:confirmed_total", "27"],
        ["130903001", "township_total:confirmed_total", "16"],
    ]
    assert set(out["severity"]) == {"warning"} and set(out["period"]) == {DAY.isoformat()}
    both = pd.concat([empty_issues(), out], ignore_index=True)
    assert both.dtypes.to_dict() == empty_issues().dtypes.to_dict()
    loaded = load_frame("validation_warning", both, DAY, SPECS["validation_warning"])
    assert len(loaded) == 4 and loaded["file_id"].notna().all()


def test_quality_warnings_without_history_or_findings_is_empty_and_typed():
    agree = {"1309D01": {"confirmed_total": 25}}
    out = quality_warnings(
        accepted(agree), DAY, CAT, registry(), history=typed(pd.DataFrame(), CAT), totals=None
    )
    assert out.empty
    assert out.dtypes.to_dict() == empty_issues().dtypes.to_dict()
