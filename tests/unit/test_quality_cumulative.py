"""Cumulative counts that go down, against the unit's last earlier value."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from helpers.quality import typed
from huizong.catalogue import load_catalogue
from huizong.quality.cumulative import cumulative_codes, cumulative_warnings

CAT = load_catalogue()
DAY = date(2020, 2, 20)


def accepted(values: dict[str, dict[str, int]]) -> pd.DataFrame:
    rows = [
        {
            "file_id": f"{k:064d}",
            "file_name": "镇汇总.xlsx",
            "sheet": "日报表",
            "row_number": 4 + k,
            "unit_code": unit,
            "unit_name": f"村{k}",
            "period": DAY.isoformat(),
            **vals,
        }
        for k, (unit, vals) in enumerate(values.items())
    ]
    return typed(pd.DataFrame(rows), CAT)


def history(cells: list[tuple[int, str, str, int | None]]) -> pd.DataFrame:
    """(days before DAY, unit, indicator, value) cells."""
    wide: dict[tuple[str, str], dict[str, int | None]] = {}
    for age, unit, code, v in cells:
        wide.setdefault(((DAY - timedelta(days=age)).isoformat(), unit), {})[code] = v
    return typed(
        pd.DataFrame([{"period": p, "unit_code": u, **v} for (p, u), v in wide.items()]), CAT
    )


def test_cumulative_indicators_are_last_and_total():
    assert cumulative_codes(CAT) == [
        "returnees_total",
        "returnees_key_area_total",
        "returnees_other_province_total",
        "isolation_released_total",
        "confirmed_total",
    ]


def test_a_drop_is_found_against_the_last_reported_value_and_rises_are_not():
    hist = history(
        [
            (3, "130903001001", "confirmed_total", 10),
            (2, "130903001001", "confirmed_total", 12),
            (1, "130903001001", "confirmed_total", None),  # blank yesterday: look further back
            (1, "130903001002", "confirmed_total", 12),  # unchanged today: clean
            (1, "130903001003", "returnees_total", 40),  # rises today: clean
            (1, "130903001004", "home_isolation", 20),  # a stock, not cumulative: clean
            (1, "130903001005", "confirmed_new", 9),  # a daily flow: clean
            (20, "130903001006", "confirmed_total", 50),  # outside the 14-day window
        ]
    )
    acc = accepted(
        {
            "130903001001": {"confirmed_total": 11},
            "130903001002": {"confirmed_total": 12},
            "130903001003": {"returnees_total": 41},
            "130903001004": {"home_isolation": 5},
            "130903001005": {"confirmed_new": 0},
            "130903001006": {"confirmed_total": 10},
            "130903001007": {"confirmed_total": 0},  # no history at all
        }
    )
    out = cumulative_warnings(acc, DAY, CAT, hist)
    assert out[["unit_code", "column", "rule", "value", "row_number"]].values.tolist() == [
        ["130903001001", "confirmed_total", "cumulative_down:confirmed_total", "11", 4]
    ]
    assert out["message_zh"].iloc[0] == (
        "累计确诊病例 是累计数，今日填报 11，低于本单位 2020-02-18 填报的 12（减少 1），"
        "累计数不应减少，请核实"
    )
    assert out["message_en"].iloc[0] == (
        "Confirmed cases, cumulative is cumulative: today 11, below this unit's 12 of "
        "2020-02-18 (down 1); a cumulative count cannot go down: please check"
    )
    assert out["severity"].tolist() == ["warning"]
