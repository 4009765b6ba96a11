"""The change report as people read it: per unit, indicator (its Chinese label), old → new,
difference and cause, grouped by county.

The warehouse keeps one ``consolidated_change`` row per changed cell and version
(:mod:`huizong.publish.versions`). Both the review app's change page and a workbook's
更正说明 sheet show them through :func:`change_report`, so the two never disagree; the
sheet shows the net change since the version an agency last had (:func:`net_changes`).
"""

from __future__ import annotations

import pandas as pd

from huizong.catalogue import Catalogue

REPORT_COLUMNS = [
    "county_code",  # the county (6 digits) a unit belongs to; a city or province: itself
    "unit_code",
    "unit_name",
    "level",
    "indicator",
    "indicator_label",  # 中文名称 of the indicator
    "old_value",
    "new_value",
    "old_value_text",
    "new_value_text",
    "difference",  # new − old where both are numbers, else NA
    "change",  # added | changed | removed
    "versions",  # the version(s) the change came in, e.g. "2" or "2, 3"
    "cause",
]
CHANGE_LABELS = {"added": "新增 added", "changed": "变化 changed", "removed": "删除 removed"}
_COUNTY_DIGITS = 6
#: What an indicator value is: a change of only the other columns of a consolidated row
#: (``reporting_units``, ``expected_units``, a renamed unit) changes no value; completeness
#: tells how many reported.
VALUE_COLUMNS = ("value", "value_text", "status")
#: Completeness fields the change page shows, old → new (the list of missing units is on
#: the day page: its change is the counts').
COMPLETENESS_FIELDS = {
    "expected_units": "应报 expected",
    "reported_units": "已报 reported",
    "missing_units": "未报 missing",
    "reporting_rate": "报告率 rate",
    "on_time_units": "按时 on time",
    "late_units": "迟报 late",
}
COMPLETENESS_COLUMNS = [
    "county_code",
    "unit_code",
    "unit_name",
    "level",
    "field",
    "field_label",
    "old",
    "new",
    "change",
    "versions",
    "cause",
]


def _differs(a: pd.Series, b: pd.Series) -> pd.Series:
    """Element-wise: not equal, missing equals missing."""
    same = (a == b).fillna(False).astype(bool) | (a.isna() & b.isna())
    return ~same


def value_changed(changes: pd.DataFrame) -> pd.Series:
    """Which ``consolidated_change`` rows change an indicator value (value, text or status;
    a row added or removed): what "values changed" counts."""
    if changes.empty:
        return pd.Series(False, index=changes.index, dtype=bool)
    out = changes["change"].isin(["added", "removed"])
    for col in VALUE_COLUMNS:
        old, new = f"old_{col}", f"new_{col}"
        if old in changes.columns and new in changes.columns:
            out |= _differs(changes[old], changes[new])
    return out.astype(bool)


def county_of(codes: pd.Series) -> pd.Series:
    """The county a unit code lies in: the first 6 digits of its official code (a
    department: of its parent's code); units above a county are their own group."""
    geo = codes.astype("str").str.extract(r"^(\d+)", expand=False).fillna("")
    return geo.str[:_COUNTY_DIGITS].astype("str")


def change_report(changes: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """``consolidated_change`` rows (or :func:`net_changes`) shaped for reading, ordered by
    county, level (higher units first), unit and the catalogue's order of indicators.
    Only changed values (:func:`value_changed`): a cell whose only change is how many
    units reported is not a change of the figure."""
    if not changes.empty:
        changes = changes[value_changed(changes).to_numpy()]
    if changes.empty:
        return pd.DataFrame(columns=REPORT_COLUMNS)
    out = changes.copy()
    if "versions" not in out.columns:
        out["versions"] = out["version"].astype("int64").astype("str")
    out["unit_name"] = out["new_unit_name"].fillna(out["old_unit_name"]).astype("str")
    out["level"] = pd.to_numeric(out["new_level"].fillna(out["old_level"])).astype("Int64")
    out["county_code"] = county_of(out["unit_code"])
    labels = {i.code: i.zh for i in catalogue.indicators}
    order = {i.code: n for n, i in enumerate(catalogue.indicators)}
    out["indicator_label"] = out["indicator"].map(labels).fillna(out["indicator"]).astype("str")
    for side in ("old", "new"):
        out[f"{side}_value"] = pd.to_numeric(out[f"{side}_value"]).astype("Float64")
    out["difference"] = out["new_value"] - out["old_value"]
    out["cause"] = out["cause"].fillna("").astype("str")
    out["_order"] = out["indicator"].map(order).fillna(len(order))
    out = out.sort_values(["county_code", "level", "unit_code", "_order"], kind="stable")
    return out.reindex(columns=REPORT_COLUMNS).reset_index(drop=True)


def net_changes(changes: pd.DataFrame) -> pd.DataFrame:
    """Change rows of several versions folded into one per cell: the old row as it was
    before the first of them, the new row as the last left it, every cause listed with its
    version. A cell changed and changed back is not a change and is left out."""
    if changes.empty:
        return changes.assign(versions=pd.Series(dtype="str"))
    key = ["unit_code", "indicator"]
    rows = changes.sort_values([*key, "version"], kind="stable")
    old_cols = [c for c in rows.columns if c.startswith("old_")]
    new_cols = [c for c in rows.columns if c.startswith("new_")]
    grouped = rows.groupby(key, sort=False)
    first, last = grouped.head(1).set_index(key), grouped.tail(1).set_index(key)
    out = first[old_cols].join(last[new_cols])
    out["versions"] = grouped["version"].agg(lambda v: ", ".join(map(str, v)))
    out["cause"] = grouped.apply(_causes, include_groups=False)
    was = out["old_status"].isna() & out["old_value"].isna()
    gone = out["new_status"].isna() & out["new_value"].isna()
    out["change"] = "changed"
    out.loc[was, "change"] = "added"
    out.loc[gone, "change"] = "removed"
    same = pd.Series(True, index=out.index)
    for col in old_cols:
        a, b = out[col], out["new_" + col[4:]]
        same &= ((a == b).fillna(False)) | (a.isna() & b.isna())
    return out[~same].reset_index()


def _causes(rows: pd.DataFrame) -> str:
    return "；".join(
        f"第{int(v)}版 v{int(v)}：{c}" for v, c in zip(rows["version"], rows["cause"], strict=True)
    )


def completeness_report(changes: pd.DataFrame) -> pd.DataFrame:
    """``completeness_change`` rows (one per unit) as one row per changed field
    (:data:`COMPLETENESS_FIELDS`): unit, field, old → new, cause; ordered like
    :func:`change_report`."""
    if changes.empty:
        return pd.DataFrame(columns=COMPLETENESS_COLUMNS)
    parts = []
    rows = changes.reset_index(drop=True)
    versions = rows["versions"] if "versions" in rows else rows["version"].astype("str")
    for n, (field, label) in enumerate(COMPLETENESS_FIELDS.items()):
        old = rows.get(f"old_{field}", pd.Series(pd.NA, index=rows.index))
        new = rows.get(f"new_{field}", pd.Series(pd.NA, index=rows.index))
        hit = _differs(pd.to_numeric(old), pd.to_numeric(new)).to_numpy()
        if not hit.any():
            continue
        parts.append(
            pd.DataFrame(
                {
                    "unit_code": rows.loc[hit, "unit_code"].astype("str"),
                    "unit_name": rows.loc[hit, "new_unit_name"]
                    .fillna(rows.loc[hit, "old_unit_name"])
                    .astype("str"),
                    "level": pd.to_numeric(
                        rows.loc[hit, "new_level"].fillna(rows.loc[hit, "old_level"])
                    ).astype("Int64"),
                    "field": field,
                    "field_label": label,
                    "old": pd.to_numeric(old[hit]).astype("Float64"),
                    "new": pd.to_numeric(new[hit]).astype("Float64"),
                    "change": rows.loc[hit, "change"].astype("str"),
                    "versions": versions[hit].astype("str"),
                    "cause": rows.loc[hit, "cause"].fillna("").astype("str"),
                    "_order": n,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=COMPLETENESS_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["county_code"] = county_of(out["unit_code"])
    out = out.sort_values(["county_code", "level", "unit_code", "_order"], kind="stable")
    return out.reindex(columns=COMPLETENESS_COLUMNS).reset_index(drop=True)
