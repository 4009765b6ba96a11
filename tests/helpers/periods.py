"""A small registry, a flow + stock catalogue and daily frames for the period tests."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from helpers.quality import registry_of
from huizong.catalogue import parse_catalogue
from huizong.periods import period_of

UNITS = [
    ("1309", "沧州市", 2, "city", "13"),
    ("130902", "新华区", 3, "county", "1309"),
    ("130903", "运河区", 3, "county", "1309"),
    ("130902001", "建设北街街道", 4, "township", "130902"),
    ("130902002", "车站街道", 4, "township", "130902"),
    ("130903001", "水月寺街道", 4, "township", "130903"),
    ("130902001001", "建北社区", 5, "village", "130902001"),
    ("130902001002", "院东社区", 5, "village", "130902001"),
    ("130902002001", "车站社区", 5, "village", "130902002"),
    ("130903001001", "水月寺社区", 5, "village", "130903001"),
    ("130903001002", "清池社区", 5, "village", "130903001"),
]
VILLAGES = [u[0] for u in UNITS if u[2] == 5]
AGGREGATES = [u[0] for u in UNITS if u[2] < 5]
REGISTRY = registry_of(UNITS, root="1309")


def _ind(code: str, across_time: str) -> dict:
    return {
        "code": code,
        "zh": code + "中",
        "en": code,
        "unit": "人",
        "section": "s",
        "across_units": "sum",
        "across_time": across_time,
        "department": "add",
    }


CATALOGUE = parse_catalogue(
    {
        "form": "t",
        "title_zh": "测试",
        "title_en": "test",
        "version": 1,
        "section": [{"code": "s", "zh": "节", "en": "s"}],
        "indicator": [_ind("flow", "sum"), _ind("stock", "last")],
    }
)
WEEK = period_of(date(2020, 1, 28), "week")


def reports_frame(days: list[dict], unpublished: set[int]) -> pd.DataFrame:
    rows = []
    for n, got in enumerate(days):
        if n in unpublished:
            continue
        for code, (flow, stock) in got.items():
            rows.append(
                {
                    "period": (WEEK.start + timedelta(n)).isoformat(),
                    "unit_code": code,
                    "unit_name": code,
                    "received_at": pd.Timestamp("2020-01-27", tz="UTC") + pd.Timedelta(days=n),
                    "not_applicable": "",
                    "flow": flow,
                    "stock": stock,
                }
            )
    frame = pd.DataFrame(
        rows,
        columns=[
            *["period", "unit_code", "unit_name", "received_at", "not_applicable"],
            *["flow", "stock"],
        ],
    )
    for code in ("flow", "stock"):
        frame[code] = frame[code].astype("Int64")
    return frame


def daily_completeness(days: list[dict], unpublished: set[int]) -> pd.DataFrame:
    rows = []
    for n, got in enumerate(days):
        if n in unpublished:
            continue
        for unit in AGGREGATES:
            rows.append(
                {
                    "period": (WEEK.start + timedelta(n)).isoformat(),
                    "unit_code": unit,
                    "reported_units": sum(v.startswith(unit) for v in got),
                }
            )
    return pd.DataFrame(rows, columns=["period", "unit_code", "reported_units"])
