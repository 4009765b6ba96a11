"""Outliers against each unit's own recent days (median/MAD with a count-aware floor)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from helpers.quality import typed
from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.quality.outliers import outlier_warnings, robust_scores

CAT = load_catalogue()
DAY = date(2020, 2, 20)


def accepted(values: dict[str, dict[str, int]]) -> pd.DataFrame:
    """Today's accepted rows: one per unit, only the given indicators filled."""
    rows = []
    for k, (unit, vals) in enumerate(values.items()):
        row = {
            "file_id": f"{k:064d}",
            "file_name": f"{unit}.xlsx",
            "sheet": "日报表",
            "row_number": 4,
            "unit_code": unit,
            "unit_name": f"村{k}",
            "period": DAY.isoformat(),
        }
        rows.append(row | vals)
    frame = pd.DataFrame(rows)
    return typed(frame, CAT)


def history(series: dict[tuple[str, str], list[int | None]]) -> pd.DataFrame:
    """(unit, indicator) -> values for day-1, day-2, ... (None = blank that day)."""
    cells: dict[tuple[str, str], dict[str, int | None]] = {}
    for (unit, code), values in series.items():
        for age, v in enumerate(values, start=1):
            cells.setdefault(((DAY - timedelta(days=age)).isoformat(), unit), {})[code] = v
    frame = pd.DataFrame([{"period": p, "unit_code": u, **vals} for (p, u), vals in cells.items()])
    return typed(frame, CAT)


def test_robust_scores_floor_and_mad():
    m = np.array(
        [
            [0.0] * 10,  # always zero: MAD 0, floor scale 1
            [100, 110, 95, 105, 98, 102, 99, 101, 97, 103],  # med 100.5, MAD 2.5
            [0, 0, 0, 3, 0, 0, np.nan, 5, 0, 0],  # mostly zero with spikes: med 0
        ]
    )
    score, med, scale, n = robust_scores(m, np.array([1.0, 120.0, 9.0]))
    assert med.tolist() == [0.0, 100.5, 0.0]
    assert n.tolist() == [10, 10, 9]
    assert scale[0] == 1.0 and scale[2] == 1.0
    assert scale[1] == max(1.4826 * 2.5, np.sqrt(100.5) + 1)
    assert score[0] == 1.0
    assert score[2] == 9.0


def test_planted_outliers_found_with_evidence_and_clean_ones_not():
    hist = history(
        {
            ("130903001001", "persons_screened"): [0] * 10,  # 0 → 500: planted
            ("130903001002", "persons_screened"): [0] * 10,  # 0 → 1: clean
            ("130903001003", "masks_in_stock"): [10000] * 8,  # 10000 → 0: planted
            ("130903001004", "vehicles_checked"): [100, 110, 95, 105, 98, 102, 99, 101],
            ("130903001005", "persons_screened"): [0, 0, 0, 0],  # too little history
            ("130903001006", "confirmed_new"): [0, 0, 0, 3, 0, 0, None, 5, 0, 0],
        }
    )
    acc = accepted(
        {
            "130903001001": {"persons_screened": 500},
            "130903001002": {"persons_screened": 1},
            "130903001003": {"masks_in_stock": 0},
            "130903001004": {"vehicles_checked": 120},
            "130903001005": {"persons_screened": 500},
            "130903001006": {"confirmed_new": 4},
        }
    )
    out = outlier_warnings(acc, DAY, CAT, hist)
    assert list(out.columns) == frames.ISSUE_COLUMNS
    got = sorted(zip(out["unit_code"], out["column"], out["rule"], out["value"], strict=True))
    assert got == [
        ("130903001001", "persons_screened", "outlier:persons_screened", "500"),
        ("130903001003", "masks_in_stock", "outlier:masks_in_stock", "0"),
    ]
    assert set(out["severity"]) == {"warning"}
    first = out[out["unit_code"] == "130903001001"].iloc[0]
    assert first["file_id"] == f"{0:064d}" and first["row_number"] == 4
    assert first["message_zh"] == (
        "排查登记人数 今日填报 500，本单位前 14 天中有 10 天填报，中位数为 0（尺度 1），"
        "偏离分数 500（超过 8 即提示），请核实是否填错或多填了一位"
    )
    assert first["message_en"] == (
        "People screened and registered is 500 today; this unit's median over the 10 days "
        "it reported in the last 14 is 0 (scale 1), score 500 (above 8 is flagged): please "
        "check for a typo or an extra digit"
    )
    masks = out[out["unit_code"] == "130903001003"].iloc[0]
    assert "中位数为 10000（尺度 101），偏离分数 99" in masks["message_zh"]


def test_history_outside_the_window_and_other_units_are_ignored():
    hist = history({("130903001001", "persons_screened"): [None] * 14 + [0] * 10})
    hist = pd.concat(
        [hist, history({("130903009999", "persons_screened"): [0] * 10})], ignore_index=True
    )
    acc = accepted({"130903001001": {"persons_screened": 500}})
    assert outlier_warnings(acc, DAY, CAT, hist).empty  # its 10 zeros are 15-24 days old
    assert outlier_warnings(acc, DAY, CAT, hist, days=30).shape[0] == 1
