"""Read-only views for stewards, always filtered to the steward's subtree.

Warehouse tables are read per reporting day and filtered in pandas with the vectorised
scope mask; a table that has not been published yet reads as empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, time

import pandas as pd
from sqlalchemy.engine import Engine

from huizong import frames
from huizong.review import store
from huizong.review.scopes import in_scope
from huizong.validate.waivers import WAIVED

ISSUE_TABLES = {"quarantine": "quarantine", "warning": "validation_warning"}
_ROW = ["file_id", "sheet", "row_number"]


def _issues_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reindex(columns=frames.ISSUE_COLUMNS)
    if len(out):
        out["row_number"] = out["row_number"].astype("int64")
    return out


def issues(
    engine: Engine, period: str | date, scopes: Iterable[str], kind: str = "quarantine"
) -> pd.DataFrame:
    """One day's quarantined (or warning) issues in scope, with the latest review status."""
    table = ISSUE_TABLES[kind]
    name = "select_quarantine_period" if kind == "quarantine" else "select_warning_period"
    raw = store.read_frame(engine, name, {"period": store.period_text(period)}, table=table)
    found = _issues_frame(raw)
    found = found[in_scope(found["unit_code"], scopes).to_numpy()].reset_index(drop=True)
    return with_status(found, store.actions_for(engine, period))


def with_status(found: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """Add ``status`` (open | accepted | reviewed | corrected | rejected | kept |
    superseded) and who/when/why.

    accept and mark_reviewed act on one rule of a row (an accept also covers the
    ``waived:<rule>`` warning the next run publishes for it); correct and reject on the
    row; keep on every duplicate row of its unit. The latest action wins.
    """
    out = found.copy()
    out["status"] = "open"
    out["status_by"] = pd.Series(pd.NA, index=out.index, dtype="str")
    out["status_note"] = pd.Series(pd.NA, index=out.index, dtype="str")
    if out.empty or actions.empty:
        return out
    acts = actions.copy()
    acts["row_number"] = acts["row_number"].astype("int64")
    acts["sheet"] = acts["sheet"].fillna("").astype("str")
    acts = acts.sort_values(["at", "id"])
    key = out[[*_ROW, "rule"]].reset_index()
    per_rule = acts[acts["action"].isin(["accept", "mark_reviewed"])]
    per_row = acts[acts["action"].isin(["correct", "reject"])]
    a = key.merge(per_rule, on=[*_ROW, "rule"], how="inner")
    # the run after an accept shows the issue as the warning ``waived:<rule>``: that is the
    # accepted value itself, not a new warning to look at again
    trail = key[key["rule"].str.startswith(WAIVED)]
    trail = trail.assign(rule=trail["rule"].str.removeprefix(WAIVED))
    a = pd.concat(
        [a, trail.merge(acts[acts["action"] == "accept"], on=[*_ROW, "rule"], how="inner")],
        ignore_index=True,
    )
    b = key.merge(per_row.drop(columns=["rule"]), on=_ROW, how="inner")
    c = _kept_status(out, acts)
    both = pd.concat([a, b, c], ignore_index=True)
    if both.empty:
        return out
    latest = both.sort_values(["at", "id"]).groupby("index").tail(1).set_index("index")
    label = {
        "accept": "accepted",
        "mark_reviewed": "reviewed",
        "correct": "corrected",
        "reject": "rejected",
        "keep": "kept",
        "keep_other": "superseded",
    }
    out.loc[latest.index, "status"] = latest["action"].map(label)
    out.loc[latest.index, "status_by"] = latest["username"].astype("str")
    note = latest["justification"].fillna("").astype("str")
    corrected = latest["action"] == "correct"
    note[corrected] = (
        latest.loc[corrected, "column"].astype("str")
        + ": "
        + latest.loc[corrected, "old_value"].fillna("").astype("str")
        + " → "
        + latest.loc[corrected, "new_value"].fillna("").astype("str")
    )
    out.loc[latest.index, "status_note"] = note
    return out


def _kept_status(found: pd.DataFrame, acts: pd.DataFrame) -> pd.DataFrame:
    """A "keep" resolves every duplicate row of its unit: the kept row is ``kept``, the
    others (action ``keep_other`` here, not in the audit) are ``superseded``."""
    keeps = acts[acts["action"] == "keep"]
    dup = found[found["rule"] == DUPLICATE][[*_ROW, "rule", "unit_code"]].reset_index()
    if keeps.empty or dup.empty:
        return pd.DataFrame()
    hit = dup.merge(
        keeps.drop(columns=["rule"]).rename(
            columns={c: f"kept_{c}" for c in _ROW},
        ),
        on="unit_code",
        how="inner",
    )
    same = (
        (hit["file_id"] == hit["kept_file_id"])
        & (hit["sheet"] == hit["kept_sheet"])
        & (hit["row_number"] == hit["kept_row_number"])
    )
    return hit.assign(action=hit["action"].where(same, "keep_other"))


def by_unit(found: pd.DataFrame) -> pd.DataFrame:
    """Issue counts per unit (open ones separately), worst first."""
    if found.empty:
        return pd.DataFrame(columns=["unit_code", "unit_name", "issues", "open", "rows"])
    g = found.assign(
        unit_code=found["unit_code"].fillna("?"),
        is_open=found["status"] == "open",
        row_key=found["file_id"] + "|" + found["sheet"] + "|" + found["row_number"].astype(str),
    ).groupby("unit_code", dropna=False)
    out = pd.DataFrame(
        {
            "unit_name": g["unit_name"].first(),
            "issues": g.size(),
            "open": g["is_open"].sum(),
            "rows": g["row_key"].nunique(),
        }
    ).reset_index()
    return out.sort_values(["open", "issues", "unit_code"], ascending=[False, False, True])


def by_rule(found: pd.DataFrame) -> pd.DataFrame:
    """Issue counts per rule with one example message in Chinese and English."""
    if found.empty:
        return pd.DataFrame(columns=["rule", "message_zh", "message_en", "issues", "open"])
    g = found.assign(is_open=found["status"] == "open").groupby("rule")
    out = pd.DataFrame(
        {
            "message_zh": g["message_zh"].first(),
            "message_en": g["message_en"].first(),
            "issues": g.size(),
            "open": g["is_open"].sum(),
        }
    ).reset_index()
    return out.sort_values(["issues", "rule"], ascending=[False, True])


def row_issues(
    engine: Engine, period: str | date, file_id: str, sheet: str, row_number: int
) -> pd.DataFrame:
    """Every issue (quarantine and warning) of one received row, unfiltered: check scope."""
    params = {
        "period": store.period_text(period),
        "file_id": file_id,
        "sheet": sheet,
        "row_number": int(row_number),
    }
    parts = [
        _issues_frame(store.read_frame(engine, name, params, table=table))
        for name, table in (
            ("select_quarantine_row", "quarantine"),
            ("select_warning_row", "validation_warning"),
        )
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return _issues_frame(pd.DataFrame())
    return with_status(pd.concat(parts, ignore_index=True), store.actions_for(engine, period))


#: The rule of a duplicate (one unit twice for the day), resolved by "keep this row".
DUPLICATE = "unique_unit_day"


def duplicates(engine: Engine, period: str | date, scopes: Iterable[str]) -> pd.DataFrame:
    """The day's duplicate rows in scope (one issue per row), by unit then file and row,
    with each row's file ``received_at``: what the side-by-side comparison shows."""
    found = issues(engine, period, scopes, "quarantine")
    found = found[found["rule"] == DUPLICATE]
    return _with_received_at(engine, period, found)


def duplicate_group(
    engine: Engine, period: str | date, file_id: str, sheet: str, row_number: int
) -> pd.DataFrame:
    """Every duplicate row of the unit and day the given row is a duplicate of, unfiltered
    (check scope); empty when that row is not quarantined as a duplicate."""
    mine = row_issues(engine, period, file_id, sheet, row_number)
    mine = mine[mine["rule"] == DUPLICATE]
    if mine.empty:
        return mine
    raw = store.read_frame(
        engine,
        "select_quarantine_period",
        {"period": store.period_text(period)},
        table="quarantine",
    )
    found = _issues_frame(raw)
    unit = mine["unit_code"].iloc[0]
    group = found[(found["rule"] == DUPLICATE) & (found["unit_code"] == unit)]
    return with_status(group.reset_index(drop=True), store.actions_for(engine, period))


def _with_received_at(engine: Engine, period: str | date, found: pd.DataFrame) -> pd.DataFrame:
    led = store.read_frame(
        engine,
        "select_ledger_period",
        {"period": store.period_text(period)},
        table="submission_ledger",
    )
    when = (
        led.set_index("file_id")["received_at"].astype("str")
        if len(led)
        else pd.Series(dtype="str")
    )
    out = found.sort_values(["unit_code", "file_id", "sheet", "row_number"], kind="stable")
    out = out.reset_index(drop=True)
    out["received_at"] = out["file_id"].map(when).astype("str")
    return out


def ledger(
    engine: Engine, period: str | date, scopes: Iterable[str], root: str | None = None
) -> pd.DataFrame:
    """Files of one day that carry at least one unit in scope.

    A file without rows (a duplicate, a rejected file) is scoped by :func:`file_units`;
    one whose unit nobody can tell is listed for the stewards of ``root`` (the
    deployment's top unit), so that no received file is hidden from every steward.
    """
    frame = store.read_frame(
        engine,
        "select_ledger_period",
        {"period": store.period_text(period)},
        table="submission_ledger",
    ).reindex(columns=["period", *frames.LEDGER_COLUMNS[1:]])
    units = file_units(frame, root)
    return frame[_any_unit_in_scope(units, scopes).to_numpy()].reset_index(drop=True)


#: 及时/迟报 of a file, as its receipt told the sender; a steward's correction is timed by
#: the report it revises (never late for the unit), so it is named for what it is.
ON_TIME, LATE, CORRECTION = "及时 on time", "迟报 late", "审核更正 correction"


def file_timeliness(
    files: pd.DataFrame, day: date, deadlines: Mapping[str, time], departments: Iterable[str]
) -> pd.Series:
    """Per ledger row: received by the deadline of its file's level (a village's, a
    township batch's, a department's: :func:`huizong.schedule.ledger_levels`, what the
    receipt and the night's on-time count judge it by), else late; unknown arrival: late —
    :func:`huizong.schedule.on_time`, the night's own comparison."""
    from huizong.ingest.receipts import REVIEW
    from huizong.schedule import ledger_levels, on_time

    if files.empty:
        return pd.Series([], index=files.index, dtype="str")
    levels = pd.Series(ledger_levels(files, departments)).reindex(files["file_id"].astype("str"))
    timely = on_time(files["received_at"], levels, day, deadlines)
    out = pd.Series(ON_TIME, index=files.index).where(timely, LATE)
    return out.where(files.get("channel", pd.Series("", index=files.index)) != REVIEW, CORRECTION)


#: A unit code at the start of a file name, as the template names files (130982102_吕公堡镇_…).
_CODE_IN_NAME = r"^(\d{12}|\d{9}|\d{6})(?!\d)"


def file_units(frame: pd.DataFrame, root: str | None = None) -> pd.Series:
    """The units a file belongs to, for scoping: its rows' units; for a file without rows,
    those of the file it duplicates, else the sender's unit, else the code its name starts
    with, else ``root``."""
    units = frame["units"].fillna("").astype("str")
    by_id = dict(zip(frame["file_id"], units, strict=True))
    fallbacks = [
        frame["duplicate_of"].map(by_id),
        frame["sender_unit"],
        frame["file_name"].fillna("").astype("str").str.extract(_CODE_IN_NAME)[0],
    ]
    for fallback in fallbacks:
        fallback = fallback.fillna("").astype("str")
        units = units.where(units != "", fallback)
    return units.where(units != "", root or "")


def _any_unit_in_scope(units: pd.Series, scopes: Iterable[str]) -> pd.Series:
    """``units`` is a comma-separated list per file: in scope if any of them is."""
    scopes = list(scopes)
    exploded = units.fillna("").astype("str").str.split(",").explode().str.strip()
    mask = in_scope(exploded.where(exploded != "", None), scopes)
    return mask.groupby(level=0).any().reindex(units.index, fill_value=False)


def runs(engine: Engine, scopes: Iterable[str], root: str | None = None) -> pd.DataFrame:
    """Reporting days published, newest first, with counts restricted to the scope (files
    scoped as :func:`ledger` scopes them)."""
    scopes = list(scopes)
    cols = ["period", "files", "quarantined", "warnings"]
    led = store.read_frame(engine, "select_ledger_periods", table="submission_ledger")
    parts = []
    if len(led):
        led = led[_any_unit_in_scope(file_units(led, root), scopes).to_numpy()]
        parts.append(led.groupby("period").size().rename("files"))
    for name, table, col in (
        ("select_quarantine_counts", "quarantine", "quarantined"),
        ("select_warning_counts", "validation_warning", "warnings"),
    ):
        counts = store.read_frame(engine, name, table=table)
        if len(counts):
            counts = counts[in_scope(counts["unit_code"], scopes).to_numpy()]
            parts.append(counts.groupby("period")["n"].sum().rename(col))
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, axis=1).reindex(columns=cols[1:]).fillna(0).astype("int64")
    out.index.name = "period"
    return out.reset_index().sort_values("period", ascending=False).reset_index(drop=True)


def actions(engine: Engine, period: str | date, scopes: Iterable[str]) -> pd.DataFrame:
    """The audit trail of one day, restricted to units in scope."""
    acts = store.actions_for(engine, period)
    return acts[in_scope(acts["unit_code"], scopes).to_numpy()].reset_index(drop=True)


def reruns(engine: Engine, period: str | date, scopes: Iterable[str]) -> pd.DataFrame:
    """Re-runs of the day by stewards whose units overlap the viewer's (either way up:
    a city steward sees its counties' re-runs, a county steward the city's)."""
    scopes = list(scopes)
    found = store.reruns_for(engine, period)
    if found.empty or not scopes:
        return found.iloc[0:0]

    def overlaps(theirs: str) -> bool:
        codes = [c for c in str(theirs).split(",") if c]
        return bool(
            in_scope(pd.Series(codes, dtype="str"), scopes).any()
            or in_scope(pd.Series(scopes, dtype="str"), codes).any()
        )

    return found[found["scopes"].map(overlaps)].reset_index(drop=True)


def period_in_scope(engine: Engine, period: str | date, scopes: Iterable[str]) -> bool:
    """True when every issue and file of the day is in scope (whole-day pages, Data Docs)."""
    scopes = list(scopes)
    p = {"period": store.period_text(period)}
    for name, table in (
        ("select_quarantine_period", "quarantine"),
        ("select_warning_period", "validation_warning"),
    ):
        frame = store.read_frame(engine, name, p, table=table)
        if len(frame) and not in_scope(frame["unit_code"], scopes).all():
            return False
    led = store.read_frame(engine, "select_ledger_period", p, table="submission_ledger")
    units = led["units"] if len(led) else pd.Series([], dtype="str")
    exploded = units.fillna("").astype("str").str.split(",").explode().str.strip()
    exploded = exploded[exploded != ""]
    return bool(in_scope(exploded, scopes).all())


#: Levels shown on the totals page: city (2), county (3), township (4).
TOTAL_LEVELS = (2, 3, 4)


def totals(
    engine: Engine, period: str | date, indicator: str, scopes: Iterable[str]
) -> pd.DataFrame:
    """One indicator's published totals for the steward: every township and county of
    their subtree, and the county and city their units roll up into.

    The units above a steward's own are shown as totals only (a steward sees their
    corrections arrive in the city total); no unit of another subtree is listed.
    """
    scopes = [s for s in (str(x).strip() for x in scopes) if s]
    frame = store.read_frame(
        engine,
        "select_consolidated_indicator",
        {"period": store.period_text(period), "indicator": indicator},
        table="consolidated",
    )
    cols = ["unit_code", "unit_name", "level", "kind", "parent_code", "value", "status"]
    if frame.empty or not scopes:
        return pd.DataFrame(
            columns=[
                *cols,
                "reporting_units",
                "expected_units",
                "previous_period",
                "previous",
                "change",
            ]
        )
    frame = frame[frame["kind"].astype("str") != "department"]
    codes = frame["unit_code"].astype("str")
    below = in_scope(codes, scopes)
    geo = [s.split("D", 1)[0] for s in scopes]  # a department hangs under its parent
    ancestors = {g[:n] for g in geo if g.isdigit() for n in (2, 4, 6, 9) if n <= len(g)}
    above = codes.isin(ancestors)
    out = frame[(below | above).to_numpy()].copy()
    out["level"] = out["level"].astype("int64")
    out = with_previous_day(engine, period, indicator, out)
    return by_county(out)


def by_county(frame: pd.DataFrame) -> pd.DataFrame:
    """City first, then each county followed by its townships (the order of the
    county's own sheet), instead of all counties then all townships."""
    code = frame["unit_code"].astype("str")
    key = pd.DataFrame(
        {
            "city": code.str[:4],
            "county": code.str[:6].where(frame["level"] >= 3, ""),
            "level": frame["level"],
            "code": code,
        }
    )
    order = key.sort_values(["city", "county", "level", "code"]).index
    return frame.loc[order].reset_index(drop=True)


def with_previous_day(
    engine: Engine, period: str | date, indicator: str, frame: pd.DataFrame
) -> pd.DataFrame:
    """Add ``previous_period``, ``previous`` and ``change`` (较上日增减): the same unit's
    total on the latest published day before this one; blank where either is unknown."""
    out = frame.copy()
    day = {"period": store.period_text(period), "indicator": indicator}
    before = store.read_frame(engine, "select_previous_period", day, table="consolidated")
    found = None if before.empty else before["previous_period"].iloc[0]
    previous = None if found is None or pd.isna(found) else store.period_text(found)
    out["previous_period"] = pd.Series(previous, index=out.index, dtype="str")
    if previous is None:
        out["previous"] = pd.Series(float("nan"), index=out.index, dtype="float64")
    else:
        old = store.read_frame(
            engine,
            "select_consolidated_indicator",
            {"period": previous, "indicator": indicator},
            table="consolidated",
        )
        by_code = old.set_index(old["unit_code"].astype("str"))["value"].astype("float64")
        out["previous"] = out["unit_code"].astype("str").map(by_code).astype("float64")
    out["change"] = out["value"].astype("float64") - out["previous"]
    return out


COMPLETENESS_COLUMNS = [
    "unit_code",
    "unit_name",
    "level",
    "kind",
    "expected_units",
    "reported_units",
    "missing_units",
    "reporting_rate",
    "on_time_units",
    "late_units",
]
MISSING_COLUMNS = [
    "unit_code",
    "unit_name",
    "kind",
    "parent_code",
    "township_code",
    "county_code",
    "city_code",
]


def completeness(engine: Engine, period: str | date, scopes: Iterable[str]) -> pd.DataFrame:
    """Completeness of the steward's own units: the highest level of their subtree that was
    published (their county, or the nation for a national steward), not every unit below."""
    frame = store.read_frame(
        engine,
        "select_completeness_period",
        {"period": store.period_text(period)},
        table="completeness",
    ).reindex(columns=COMPLETENESS_COLUMNS)
    frame = frame[in_scope(frame["unit_code"], scopes).to_numpy()]
    if frame.empty:
        return frame.reset_index(drop=True)
    top = frame["level"].astype("int64").min()
    return frame[frame["level"].astype("int64") == top].reset_index(drop=True)


def missing_reporters(engine: Engine, period: str | date, scopes: Iterable[str]) -> pd.DataFrame:
    """Units in scope that have not reported for the day, by township then code."""
    frame = store.read_frame(
        engine,
        "select_missing_period",
        {"period": store.period_text(period)},
        table="missing_reporter",
    ).reindex(columns=MISSING_COLUMNS)
    frame = frame[in_scope(frame["unit_code"], scopes).to_numpy()]
    return frame.sort_values(["township_code", "unit_code"], na_position="last").reset_index(
        drop=True
    )
