"""From one consolidated value back to the reporters, rows and files behind it.

A leader who doubts a number asks: which villages gave it, from which files, what did the
reader change on the way in, and did a steward touch it? :func:`build_trace` answers from
the published tables alone (``report`` rows, the ledger, the stewards' audit) and
re-aggregates the contributions with the indicator's own rules, so a trace that does not
re-add to the published value is itself a finding.

Who contributes to a unit's value is the roll-up's rule (:mod:`huizong.rollup.core`):
every village or community of its subtree, and the departments attached within it only
for indicators whose department mode is ``add``; a department's own value is its own row.
A period's contribution of a reporter is its ``across_time`` value over the period's days
(:func:`huizong.periods.reporter_values`), the same function the period tables come from.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from huizong import frames
from huizong.catalogue import Catalogue, Indicator
from huizong.periods import Period, reporter_values
from huizong.publish.unit_report import subtree
from huizong.registry import Registry

STATUS_REPORTED, STATUS_NOT_REPORTED, STATUS_NOT_APPLICABLE = frames.VALUE_STATUSES
#: The reporter gave a row for the period, but no value for this indicator.
STATUS_BLANK = "blank"
_ATTRIBUTION = "："

CONTRIBUTOR_COLUMNS = [
    "unit_code",
    "unit_name",
    "kind",
    "status",  # reported | blank | not_applicable | not_reported
    "value",  # numeric indicators: the reporter's value for the period (NA if none)
    "value_text",  # text indicators: what it wrote
    "day",  # the day whose value counts ("last" rule) or the last day summed
    "days_given",  # days of the period on which it gave a value
]
EVIDENCE_COLUMNS = [
    "unit_code",
    "period",
    "value",
    "file_id",
    "file_name",
    "sheet",
    "row_number",
    "received_at",
    "channel",
    "source",
    "sender",
    "coercion",  # what the reader did to this cell ("raw → value (rule)"; "" none)
]


@dataclass(frozen=True)
class Published:
    """The published cell being traced (``consolidated`` or ``period_consolidated``)."""

    value: float | None
    value_text: str | None
    status: str
    reporting_units: int
    expected_units: int
    carried_units: int = 0


@dataclass(frozen=True)
class Trace:
    unit_code: str
    unit_name: str
    indicator: Indicator
    period: Period
    through: date
    published: Published
    contributors: pd.DataFrame  # CONTRIBUTOR_COLUMNS, one row per expected reporter
    evidence: pd.DataFrame  # EVIDENCE_COLUMNS, one row per (reporter, day) with a value
    actions: pd.DataFrame  # the stewards' audited actions on these reporters' rows

    @property
    def recomputed(self) -> float | str | None:
        """The contributions aggregated again with the indicator's ``across_units`` rule."""
        return aggregate(self.contributors, self.indicator)

    @property
    def reporting_units(self) -> int:
        return int((self.contributors["status"] == STATUS_REPORTED).sum())

    @property
    def re_adds(self) -> bool:
        """True when the contributions give back exactly the published value."""
        got, pub = self.recomputed, self.published
        if self.reporting_units != pub.reporting_units:
            return False
        if not self.indicator.is_numeric:
            return (got or None) == (pub.value_text or None)
        if got is None or pub.value is None:
            return got is None and pub.value is None
        return bool(np.isclose(float(got), float(pub.value), rtol=1e-12, atol=1e-9))


def aggregate(contributors: pd.DataFrame, indicator: Indicator) -> float | str | None:
    """Aggregate reporters' values as the roll-up does; None when nobody gave one."""
    given = contributors[contributors["status"] == STATUS_REPORTED]
    if given.empty:
        return None
    if not indicator.is_numeric:
        lines = given.sort_values("unit_code")
        return "\n".join(lines["unit_name"] + _ATTRIBUTION + lines["value_text"].str.strip())
    values = given["value"].astype("float64")
    how = indicator.across_units
    if how == "sum":
        return float(values.sum())
    if how == "mean":
        return float(values.sum() / len(values))
    if how == "max":
        return float(values.max())
    if how == "min":
        return float(values.min())
    raise ValueError(f"{indicator.code}: cannot trace across_units={how!r}")


def expected_reporters(registry: Registry, unit: str, indicator: Indicator) -> pd.DataFrame:
    """The reporters whose value goes into ``unit``'s value of ``indicator``."""
    units = registry.units
    own = units[units["code"] == unit]
    if own.empty:
        raise ValueError(f"单位代码“{unit}”不在名录中 / unit {unit!r} is not in the registry")
    if (own["kind"] == "department").any():
        return own[["code", "name", "kind"]]
    inside = subtree(registry, unit)
    villages = inside["level"] == 5
    departments = inside["kind"] == "department"
    keep = villages | (departments & (indicator.department == "add"))
    return inside.loc[keep, ["code", "name", "kind"]].sort_values("code")


def build_trace(
    *,
    unit: str,
    indicator: Indicator,
    period: Period,
    through: date,
    published: Published,
    registry: Registry,
    catalogue: Catalogue,
    reports: pd.DataFrame,
    ledger: pd.DataFrame,
    actions: pd.DataFrame,
) -> Trace:
    """The trace of ``unit``'s ``indicator`` for ``period`` (its days up to ``through``).

    ``reports``: published ``report`` rows of the period's days (at least the subtree's);
    ``ledger``: the ``submission_ledger`` rows of those days; ``actions``: the stewards'
    audit rows of those days.
    """
    expected = expected_reporters(registry, unit, indicator)
    days = {d.isoformat() for d in period.days if d <= through}
    rows = reports[
        reports["unit_code"].isin(expected["code"]) & reports["period"].astype("str").isin(days)
    ]
    contributors = _contributors(expected, rows, indicator, catalogue, through)
    name = registry.names_of([unit]).get(unit, unit)
    return Trace(
        unit_code=unit,
        unit_name=str(name),
        indicator=indicator,
        period=period,
        through=through,
        published=published,
        contributors=contributors,
        evidence=_evidence(rows, indicator, ledger),
        actions=_actions(actions, expected["code"], days, indicator),
    )


def _contributors(
    expected: pd.DataFrame,
    rows: pd.DataFrame,
    indicator: Indicator,
    catalogue: Catalogue,
    through: date,
) -> pd.DataFrame:
    code = indicator.code
    out = pd.DataFrame(
        {
            "unit_code": expected["code"].astype("str").to_numpy(),
            "unit_name": expected["name"].astype("str").to_numpy(),
            "kind": expected["kind"].astype("str").to_numpy(),
        }
    )
    if rows.empty:
        per = pd.DataFrame(columns=["unit_code", code, "not_applicable"])
    else:
        only = dataclasses.replace(catalogue, indicators=(indicator,), rules=(), pairs=())
        per = reporter_values(rows, only, through).rows
    per = per.set_index("unit_code").reindex(out["unit_code"])
    value = per[code] if code in per.columns else pd.Series(pd.NA, index=per.index)
    given = value.notna().to_numpy()
    if not indicator.is_numeric:
        given = given & (value.astype("str").str.strip().str.len().fillna(0).to_numpy() > 0)
    marked = (
        per["not_applicable"]
        .fillna("")
        .astype("str")
        .str.split(",")
        .map(lambda codes: code in [c.strip() for c in codes])
        .to_numpy(dtype=bool)
    )
    present = out["unit_code"].isin(rows["unit_code"]).to_numpy()
    out["status"] = np.select(
        [given, present & marked, present],
        [STATUS_REPORTED, STATUS_NOT_APPLICABLE, STATUS_BLANK],
        STATUS_NOT_REPORTED,
    )
    out["value"] = pd.array(value.to_numpy() if indicator.is_numeric else [pd.NA] * len(out))
    if indicator.is_numeric:
        out["value"] = out["value"].astype("Int64")
    out["value_text"] = pd.Series(
        value.to_numpy() if not indicator.is_numeric else [pd.NA] * len(out), dtype="str"
    )
    out["day"], out["days_given"] = _days_of(out["unit_code"], rows, code)
    return out[CONTRIBUTOR_COLUMNS]


def _days_of(codes: pd.Series, rows: pd.DataFrame, code: str) -> tuple[pd.Series, pd.Series]:
    """Per reporter: the last day it gave a value, and how many days it gave one."""
    if rows.empty or code not in rows.columns:
        return pd.Series(pd.NA, index=codes.index, dtype="str"), pd.Series(0, index=codes.index)
    given = rows[rows[code].notna()]
    if given[code].dtype == "str":
        given = given[given[code].str.strip().str.len() > 0]
    by = given.groupby("unit_code")["period"]
    last = by.max().astype("str").reindex(codes).to_numpy()
    count = by.size().reindex(codes).fillna(0).astype("int64").to_numpy()
    return pd.Series(last, index=codes.index, dtype="str"), pd.Series(count, index=codes.index)


def _evidence(rows: pd.DataFrame, indicator: Indicator, ledger: pd.DataFrame) -> pd.DataFrame:
    code = indicator.code
    if rows.empty or code not in rows.columns:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    used = rows[rows[code].notna()].copy()
    used["value"] = used[code]
    used["coercion"] = used["coercions"].map(lambda raw: _coercion_of(raw, code))
    files = ledger.drop_duplicates("file_id").set_index("file_id")
    for col in ("channel", "source", "sender"):
        src = files[col] if col in files.columns else pd.Series(dtype="str")
        used[col] = used["file_id"].map(src).fillna("").astype("str").to_numpy()
    used = used.sort_values(["unit_code", "period"], kind="stable")
    return used.reindex(columns=EVIDENCE_COLUMNS).reset_index(drop=True)


def _coercion_of(raw: object, code: str) -> str:
    """The reader's coercions of one cell, as "raw → value (rule)"; "" when none."""
    if not isinstance(raw, str) or not raw.strip():
        return ""
    try:
        entries = json.loads(raw)
    except ValueError:
        return ""
    return "; ".join(
        f"{e.get('raw')} → {e.get('value')} ({e.get('rule')})"
        for e in entries
        if isinstance(e, dict) and e.get("column") == code
    )


def _actions(
    actions: pd.DataFrame, reporters: pd.Series, days: set[str], indicator: Indicator
) -> pd.DataFrame:
    """Audit rows on these reporters' rows of these days that concern the indicator or the
    whole row (a rejection, a duplicate kept), including rows that are gone since."""
    if actions.empty:
        return actions
    about = actions["column"].isna() | (actions["column"].astype("str") == indicator.code)
    mine = actions["unit_code"].astype("str").isin(set(reporters.astype("str")))
    on_day = actions["period"].astype("str").str[:10].isin(days)
    return actions[mine & on_day & about].reset_index(drop=True)
