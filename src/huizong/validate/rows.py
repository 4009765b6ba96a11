"""VALIDATE: check candidate rows with the form's GX suite; split accepted / quarantined.

The suite is applied by the engine the settings name (``validation_engine``): ``fast``,
its checks as one vectorised pass (:mod:`huizong.validate.fast`, GX for any check that
pass does not implement), or ``gx``, Great Expectations for all; both list the same
failures, so the quarantine does not depend on the engine.

Superseded rows are not validated (they are accounted as superseded). A row with at least
one error-level failure is quarantined with one ISSUE per failed rule; warnings never
block a row. Blank and not-applicable cells are NA and pass every check; zero is a real
report and is checked like any other number.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from huizong import frames
from huizong.catalogue import Catalogue
from huizong.given import values_given
from huizong.registry import Registry
from huizong.settings import ENV
from huizong.validate import messages
from huizong.validate.fast import run_suite_fast
from huizong.validate.runner import ReceivedContractError, run_suite
from huizong.validate.suggest import (
    suggest_codes_by_name,
    suggest_unit_codes,
    suggested_names,
)
from huizong.validate.suites import (
    DERIVED_COLUMNS,
    FILE_TOWNSHIP,
    NO_CELL_ERRORS,
    UNIT_KIND,
    UNIT_LEVEL,
    UNIT_TOWNSHIP,
    VALUES_GIVEN,
    load_suite,
    load_suite_json,
)

#: A file is one township's batch when at least this share of its known village rows
#: (and at least FILE_TOWNSHIP_MIN_ROWS of them) belong to one township; its rows of any
#: other township are then quarantined (``unit_in_file_township``). Files that mix
#: townships more evenly (a county's collection) are not judged.
FILE_TOWNSHIP_SHARE = 0.75
FILE_TOWNSHIP_MIN_ROWS = 2
#: Periods more than this many days before the reporting day are "too old" (message).
DEFAULT_MAX_PERIOD_AGE_DAYS = 7


@dataclass(frozen=True)
class ValidationResult:
    """accepted: RECEIVED columns + ``warning_count``; quarantine/warnings: ISSUE_COLUMNS."""

    accepted: pd.DataFrame
    quarantine: pd.DataFrame
    warnings: pd.DataFrame


def empty_issues() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in frames.ISSUE_COLUMNS})
    return frame.astype({"row_number": "int64"})


def max_period_age_days(settings: Any = None) -> int:
    """``settings.max_period_age_days`` if set, else ``$HUIZONG_MAX_PERIOD_AGE_DAYS``, else 7."""
    value = getattr(settings, "max_period_age_days", None)
    if value is None:
        value = os.environ.get("HUIZONG_MAX_PERIOD_AGE_DAYS", DEFAULT_MAX_PERIOD_AGE_DAYS)
    return int(value)


def validation_engine(settings: Any = None) -> str:
    """``settings.validation_engine`` if given, else ``$HUIZONG_VALIDATION_ENGINE``, else fast."""
    value = getattr(settings, "validation_engine", None)
    if value is None:
        name = "HUIZONG_VALIDATION_ENGINE"
        value = ENV[name][1](os.environ.get(name, "").strip() or "fast")
    return str(value)


def suite_failures(
    frame: pd.DataFrame, catalogue: Catalogue, day: date, engine: str
) -> pd.DataFrame:
    """Every (rule, failing row) of the form's suite over the prepared frame, by the
    vectorised pass (``fast``) or by GX itself (``gx``): the same list either way."""
    if engine == "gx":
        return run_suite(frame, load_suite(catalogue), day)
    if engine != "fast":
        raise ValueError(f"unknown validation engine {engine!r} (fast or gx)")
    return run_suite_fast(frame, load_suite_json(catalogue), day)


def file_townships(frame: pd.DataFrame, unit_township: pd.Series) -> pd.Series:
    """Per row, the township its file is a batch of (NA when the file is not one).

    ``unit_township``: the township of each row's unit when it is a known village (NA
    otherwise). A file's township is the most common one among its village rows if that
    covers at least FILE_TOWNSHIP_SHARE of them (and FILE_TOWNSHIP_MIN_ROWS rows).
    """
    out = pd.Series(pd.NA, index=frame.index, dtype="str")
    rows = pd.DataFrame({"file_id": frame["file_id"], "township": unit_township}).dropna()
    if rows.empty:
        return out
    counts = rows.groupby(["file_id", "township"], sort=True).size().rename("n").reset_index()
    counts["total"] = counts.groupby("file_id")["n"].transform("sum")
    top = counts.sort_values(["file_id", "n"], ascending=[True, False], kind="stable")
    top = top.drop_duplicates("file_id")
    top = top[(top["n"] >= FILE_TOWNSHIP_SHARE * top["total"])]
    top = top[top["total"] >= FILE_TOWNSHIP_MIN_ROWS]
    return frame["file_id"].map(top.set_index("file_id")["township"]).astype("str")


def candidates_of(received: pd.DataFrame) -> pd.DataFrame:
    """The rows not superseded; ``received`` itself when none is (a national day has
    almost none, and a boolean take copied its 0.4 GB for nothing)."""
    keep = (received["disposition"] != "superseded").to_numpy(dtype=bool)
    return received if keep.all() else received[keep]


def _prepared(cands: pd.DataFrame, catalogue: Catalogue, registry: Registry) -> pd.DataFrame:
    """The frame GX sees: numeric indicators as float64 (NA → NaN, skipped by every
    check; Int64 would be slow), row_number int64, and the unit's level/kind from the
    registry (NA when the code is unknown)."""
    frame = cands.reset_index(drop=True)  # copy-on-write: the columns set below are new
    for ind in catalogue.numeric:
        if ind.code in frame.columns:
            frame[ind.code] = pd.to_numeric(frame[ind.code]).astype("float64")
    frame["row_number"] = frame["row_number"].astype("int64")
    # the three registry columns looked up by position, not a keyed copy of 620 k units
    units = registry.units
    repeated = units["code"].duplicated().to_numpy()
    units = units[~repeated] if repeated.any() else units
    at = pd.Index(units["code"]).get_indexer(frame["unit_code"])
    frame[UNIT_LEVEL] = _looked_up(units["level"], at).astype("Int64")
    frame[UNIT_KIND] = _looked_up(units["kind"], at).astype("str")
    village = (frame[UNIT_LEVEL] == 5).fillna(False) & (frame["claimed_kind"] == "village")
    township = _looked_up(units["township_code"], at).astype("str")
    frame[UNIT_TOWNSHIP] = township.where(village.to_numpy(bool))
    frame[FILE_TOWNSHIP] = file_townships(frame, frame[UNIT_TOWNSHIP])
    given = values_given(frame, catalogue)
    # a cell that could not be read was written: the row is quarantined, not "empty"
    given += (~frame["cell_errors"].fillna("").isin(NO_CELL_ERRORS)).to_numpy(bool)
    frame[VALUES_GIVEN] = given
    return frame


def _looked_up(column: pd.Series, at: np.ndarray) -> pd.Series:
    """``column``'s value at each position of ``at`` (-1: NA), as a fresh row index."""
    return pd.Series(column.array.take(at, allow_fill=True))


def _check_keys(received: pd.DataFrame) -> None:
    missing = [c for c in (*frames.ROW_KEY, "disposition", "unit_code") if c not in received]
    if missing:
        raise ReceivedContractError(f"RECEIVED lacks columns {missing}")
    if received.duplicated(frames.ROW_KEY).any():
        dup = received.loc[received.duplicated(frames.ROW_KEY), frames.ROW_KEY].iloc[0]
        raise ReceivedContractError(f"row key not unique in RECEIVED, e.g. {dup.to_dict()}")


def validate_rows(
    received: pd.DataFrame,
    day: date,
    catalogue: Catalogue,
    registry: Registry,
    settings: Any = None,
) -> ValidationResult:
    """Validate the day's candidate rows; every failing row is reported, none is lost."""
    _check_keys(received)
    cands = candidates_of(received)
    out_cols = [c for c in received.columns if c not in DERIVED_COLUMNS]
    if cands.empty:
        accepted = cands.reindex(columns=out_cols).reset_index(drop=True)
        accepted["warning_count"] = pd.Series(dtype="int64")
        return ValidationResult(accepted, empty_issues(), empty_issues())
    frame = _prepared(cands, catalogue, registry)
    failures = suite_failures(frame, catalogue, day, validation_engine(settings))
    issues = _issues(failures, frame, day, catalogue, registry, max_period_age_days(settings))
    rows = frame.index
    del frame, failures  # the typed copy of the day is not held while the accepted are cut
    errors = issues[issues["severity"] == "error"]
    warns = issues[issues["severity"] == "warning"]
    bad = rows.isin(errors["_pos"])
    counts = warns.groupby("_pos").size()
    # a view while no row failed (copy-on-write), else one take: never the day twice
    accepted = cands.reset_index(drop=True)[out_cols]
    if bad.any():
        accepted = accepted.loc[~bad]
    accepted["warning_count"] = (
        pd.Series(accepted.index.map(counts), index=accepted.index).fillna(0).astype("int64")
    )
    return ValidationResult(
        accepted=accepted.reset_index(drop=True),
        quarantine=sorted_issues(errors),
        warnings=sorted_issues(warns),
    )


def sorted_issues(issues: pd.DataFrame) -> pd.DataFrame:
    """Issues in the issue columns and dtypes, in row-key, rule, column order: the one
    order the rows' validation, the day's (with its waivers and notes) and a partial
    re-validation all hand on, so their parquet files and tables compare row for row."""
    if issues.empty:
        return empty_issues()
    out = issues.sort_values([*frames.ROW_KEY, "rule", "column"], kind="stable")
    out = out[frames.ISSUE_COLUMNS].reset_index(drop=True)
    text = [c for c in frames.ISSUE_COLUMNS if c != "row_number"]
    return out.astype({"row_number": "int64", **dict.fromkeys(text, "str")})


def _issues(
    failures: pd.DataFrame,
    frame: pd.DataFrame,
    day: date,
    catalogue: Catalogue,
    registry: Registry,
    max_age_days: int = DEFAULT_MAX_PERIOD_AGE_DAYS,
) -> pd.DataFrame:
    """Failures (rule, row key) → ISSUE rows with values and clerk messages."""
    if failures.empty:
        return empty_issues().assign(_pos=pd.Series(dtype="int64"))
    keys = frame[frames.ROW_KEY].assign(_pos=range(len(frame)))
    keys = keys.astype({"file_id": "str", "sheet": "str"})
    failures = failures.astype({"file_id": "str", "sheet": "str", "row_number": "int64"})
    f = failures.merge(keys, on=frames.ROW_KEY, how="left", validate="many_to_one")
    if f["_pos"].isna().any():
        raise ReceivedContractError("GX reported a row key that is not in the frame")
    f["_pos"] = f["_pos"].astype("int64")
    row = frame.iloc[f["_pos"].to_numpy()].reset_index(drop=True)
    f = f.reset_index(drop=True)
    for col in (
        "unit_code",
        "unit_name",
        "period",
        "period_raw",
        "file_name",
        "claimed_kind",
        "cell_errors",
        UNIT_TOWNSHIP,
        FILE_TOWNSHIP,
    ):
        f[col] = row[col].to_numpy()
    f["unit_kind"] = row[UNIT_KIND].to_numpy()
    names = registry.units.drop_duplicates("code").set_index("code")["name"]
    f["registry_name"] = f["unit_code"].map(names)

    parts: list[pd.DataFrame] = []
    family = f["rule"].str.split(":", n=1).str[0]
    iso = day.isoformat()

    ranged = f[family.isin(["range", "warn_above"])].copy()
    if not ranged.empty:
        ranged["raw_value"] = _cell_values(frame, ranged["_pos"], ranged["column"])
        ranged = _split_range(ranged, catalogue)
        for kind in ("min", "max", "warn_above"):
            sub = ranged[ranged["rule"].str.startswith(kind + ":")]
            if not sub.empty:
                parts.append(_with(sub, messages.range_texts(sub, catalogue, kind)))

    rules = f[family == "rule"].copy()
    if not rules.empty:
        by_code = {r.code: r for r in catalogue.rules}
        code = rules["rule"].str.removeprefix("rule:")
        rules["left_value"] = _cell_values(
            frame, rules["_pos"], code.map({c: r.left for c, r in by_code.items()})
        )
        rules["right_value"] = _cell_values(
            frame, rules["_pos"], code.map({c: r.right for c, r in by_code.items()})
        )
        parts.append(_with(rules, messages.rule_texts(rules, catalogue)))

    simple = {
        "unit_code_present": lambda s: _unit_code_present(s, registry),
        "unit_known": lambda s: _unit_known(s, registry),
        "unit_kind": messages.unit_kind_texts,
        "unit_in_file_township": lambda s: messages.file_township_texts(s, names),
        "period_present": lambda s: messages.period_present_texts(s, iso),
        "period_is_day": lambda s: messages.period_is_day_texts(s, day, max_age_days),
        "unique_unit_day": messages.unique_texts,
        "empty_report": messages.empty_report_texts,
    }
    for rule, texts in simple.items():
        sub = f[f["rule"] == rule]
        if not sub.empty:
            parts.append(_with(sub, texts(sub)))

    cells = f[f["rule"] == "cell_parse"]
    if not cells.empty:
        exploded = messages.explode_cell_errors(cells, catalogue)
        base = cells.drop(columns=["column"]).drop_duplicates("_pos")
        parts.append(exploded.merge(base, on="_pos", how="left"))

    known = {"range", "warn_above", "rule", "cell_parse", *simple}
    other = f[~family.isin(known)]
    if not other.empty:  # a suite rule without a message template: still report it
        parts.append(
            _with(
                other,
                (
                    other["column"].astype("str"),
                    "未通过检查：" + other["rule"],
                    "Failed check: " + other["rule"],
                ),
            )
        )

    issues = pd.concat(parts, ignore_index=True)
    issues["period"] = iso
    return issues


def _unit_code_present(s: pd.DataFrame, registry: Registry) -> messages.Texts:
    suggested = suggest_codes_by_name(s["unit_name"], s[FILE_TOWNSHIP], registry)
    return messages.unit_code_present_texts(s, suggested, suggested_names(suggested, registry))


def _unit_known(s: pd.DataFrame, registry: Registry) -> messages.Texts:
    suggested = suggest_unit_codes(s["unit_code"], registry, s["unit_name"])
    return messages.unit_known_texts(s, suggested, suggested_names(suggested, registry))


def _with(sub: pd.DataFrame, texts: messages.Texts) -> pd.DataFrame:
    value, zh, en = texts
    return sub.assign(value=value.to_numpy(), message_zh=zh.to_numpy(), message_en=en.to_numpy())


def _cell_values(frame: pd.DataFrame, pos: pd.Series, column: pd.Series) -> pd.Series:
    """frame[column[i]][pos[i]] for each i, vectorised per distinct column."""
    out = pd.Series(float("nan"), index=pos.index, dtype="float64")
    for col, idx in column.groupby(column, sort=False).groups.items():
        out.loc[idx] = frame[col].to_numpy()[pos.loc[idx].to_numpy()]
    return out


def _split_range(ranged: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """range:<code> → min:<code> or max:<code> by which bound the value broke; a
    warn_above on a cell that is already above its hard max is dropped (same cell)."""
    mins = ranged["column"].map({i.code: i.min for i in catalogue.numeric})
    is_range = ranged["rule"].str.startswith("range:")
    below = is_range & (ranged["raw_value"] < mins)
    ranged.loc[is_range, "rule"] = "max:" + ranged.loc[is_range, "column"]
    ranged.loc[below, "rule"] = "min:" + ranged.loc[below, "column"]
    over = ranged.loc[ranged["rule"].str.startswith("max:"), ["_pos", "column"]]
    dup = ranged["rule"].str.startswith("warn_above:") & pd.MultiIndex.from_frame(
        ranged[["_pos", "column"]]
    ).isin(pd.MultiIndex.from_frame(over))
    return ranged[~dup]
