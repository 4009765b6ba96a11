"""Read what a trace needs from the warehouse: the published cell and its subtree's rows."""

from __future__ import annotations

from datetime import date

import pandas as pd

from huizong.catalogue import Catalogue
from huizong.lineage.trace import Published, Trace, build_trace
from huizong.periods import Period
from huizong.publish.warehouse import read_day_range, read_period_table
from huizong.registry import NATION_CODE, Registry
from huizong.warehouse import actions_between


class NotPublished(FileNotFoundError):
    """The unit has no published value for that indicator and period."""


def load_trace(
    url: str,
    unit: str,
    indicator: str,
    period: Period,
    registry: Registry,
    catalogue: Catalogue,
) -> Trace:
    """The trace of one published value, read from the warehouse at ``url``."""
    try:
        ind = catalogue.indicator(indicator)
    except KeyError:
        raise ValueError(
            f"指标代码“{indicator}”不在指标目录中（见 huizong catalogue） / unknown indicator "
            f"{indicator!r} (see huizong catalogue)"
        ) from None
    cell, through = _published(url, unit, ind.code, period)
    prefix = "" if unit == NATION_CODE else unit
    start = period.start
    reports = read_day_range(url, "report", start, through, catalogue=catalogue, prefix=prefix)
    ledger = read_day_range(url, "submission_ledger", start, through)
    return build_trace(
        unit=unit,
        indicator=ind,
        period=period,
        through=through,
        published=cell,
        registry=registry,
        catalogue=catalogue,
        reports=reports,
        ledger=ledger,
        actions=actions_between(url, start, through),
    )


def _published(url: str, unit: str, indicator: str, period: Period) -> tuple[Published, date]:
    if period.type == "day":
        cons = read_day_range(url, "consolidated", period.start, period.start, prefix=unit)
        through = period.start
    else:
        cons = read_period_table(url, "period_consolidated", period.type, period.start)
        through = date.fromisoformat(str(cons["through"].iloc[0])) if len(cons) else period.end
    row = cons[(cons["unit_code"] == unit) & (cons["indicator"] == indicator)]
    if row.empty:
        raise NotPublished(
            f"{unit} 的 {indicator} 在 {period.label} 没有已发布的值 / nothing published for "
            f"{unit} {indicator} in {period.label}"
        )
    r = row.iloc[0]
    return (
        Published(
            value=None if pd.isna(r["value"]) else float(r["value"]),
            value_text=None if pd.isna(r["value_text"]) else str(r["value_text"]),
            status=str(r["status"]),
            reporting_units=int(r["reporting_units"]),
            expected_units=int(r["expected_units"]),
            carried_units=int(r.get("carried_units", 0) or 0),
        ),
        through,
    )
