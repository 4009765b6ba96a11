"""Stewards' waivers: a value a steward accepted as correct does not fail validation again,
and a duplicate a steward resolved ("keep this row") is not a duplicate again.

A waiver names one issue (file_id, sheet, row_number, rule) of one day. The issue leaves
the quarantine; a row left with no error moves to accepted. The waived issue stays
visible as a warning ``waived:<rule>`` carrying the steward's name and justification, so
the day's outputs (and the published warnings) show why the row passed.

A waiver of rule ``unique_unit_day`` (:data:`KEEP`) is a steward's "keep this row": before
validation, :func:`apply_keeps` marks the other rows of that unit and day superseded (as
ingest does for an earlier revision), so the kept row is validated and published alone
and the ledger still adds up (published + quarantined + superseded = received).
"""

from __future__ import annotations

import pandas as pd

from huizong import frames
from huizong.validate.rows import ValidationResult, candidates_of, empty_issues

#: Prefix of the warning rule that records a waived issue.
WAIVED = "waived:"
#: Rules about a value a steward can vouch for (an upper bound, a cross-field rule): a big
#: number may be true. Hard rules cannot be waived — a value below its floor (``min:``:
#: the floor of every count and stock is 0, so a negative), a cell that is not a number
#: (``cell_parse``), and structural failures (unknown or missing unit, wrong day,
#: duplicate row): no steward can vouch for a negative stock, and the roll-up could not
#: place or would double-count such a row; correct or reject it instead.
WAIVABLE = ("max:", "rule:")
#: The rule a "keep this row" waiver names: the duplicate it resolves.
KEEP = "unique_unit_day"
_WHO = ["username", "justification"]


def is_waivable(rule: str) -> bool:
    """The one rule of what "accept" (接受) may waive: the action, the page and the
    validation that honours a waiver all ask this."""
    return str(rule).startswith(WAIVABLE)


_KEY = [*frames.ROW_KEY, "rule"]


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """The match columns in one dtype, whatever the source (parquet, SQL, CSV)."""
    out = frame.assign(
        file_id=frame["file_id"].astype("str"),
        sheet=frame["sheet"].fillna("").astype("str"),
        row_number=frame["row_number"].astype("int64"),
    )
    if "rule" in out:
        out["rule"] = out["rule"].astype("str")
    return out


def _row_index(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(_keyed(frame[frames.ROW_KEY]))


def apply_waivers(
    result: ValidationResult, received: pd.DataFrame, waivers: pd.DataFrame
) -> ValidationResult:
    """Remove waived quarantine issues; move rows with no error left to accepted.

    ``waivers`` has at least ``file_id, sheet, row_number, rule`` and optionally
    ``username`` and ``justification`` (``huizong.warehouse.day_waivers`` reads them). A
    waiver that matches no quarantined issue (the row was corrected or superseded since)
    does nothing.
    """
    if waivers is None or waivers.empty or result.quarantine.empty:
        return result
    quarantine = _keyed(result.quarantine)
    w = _keyed(waivers).drop_duplicates(_KEY)
    w = w[w["rule"].str.startswith(WAIVABLE)]
    for col in ("username", "justification"):
        if col not in w:
            w[col] = ""
    w = w[[*_KEY, "username", "justification"]]
    hit = quarantine.merge(w, on=_KEY, how="left", indicator=True)["_merge"].eq("both")
    hit = hit.to_numpy()
    if not hit.any():
        return result

    waived = quarantine[hit].merge(w, on=_KEY, how="left")
    remaining = result.quarantine[~hit].reset_index(drop=True)
    waived_rows = waived[frames.ROW_KEY].drop_duplicates()
    freed = waived_rows[~_row_index(waived_rows).isin(_row_index(remaining))]

    notes = _waived_warnings(waived)
    warnings = _sorted(pd.concat([_keyed(result.warnings), notes], ignore_index=True))
    accepted = _accept(result.accepted, received, freed, warnings)
    return ValidationResult(accepted=accepted, quarantine=remaining, warnings=warnings)


def _waived_warnings(waived: pd.DataFrame) -> pd.DataFrame:
    """One warning per waived issue: same row, column and value; the steward's reason."""
    who = waived["username"].fillna("").astype("str")
    why = waived["justification"].fillna("").astype("str")
    out = waived.copy()
    out["rule"] = WAIVED + waived["rule"]
    out["severity"] = "warning"
    out["message_zh"] = (
        "审核员 "
        + who
        + " 已确认此值无误（"
        + why
        + "）。原问题："
        + waived["message_zh"].astype("str")
    )
    out["message_en"] = (
        "Accepted as correct by steward "
        + who
        + " ("
        + why
        + "). Was: "
        + waived["message_en"].astype("str")
    )
    return out[frames.ISSUE_COLUMNS]


def _sorted(issues: pd.DataFrame) -> pd.DataFrame:
    if issues.empty:
        return empty_issues()
    out = issues.sort_values([*frames.ROW_KEY, "rule", "column"], kind="stable")
    text = [c for c in frames.ISSUE_COLUMNS if c != "row_number"]
    out = out[frames.ISSUE_COLUMNS].reset_index(drop=True)
    return out.astype({"row_number": "int64", **dict.fromkeys(text, "str")})


def _accept(
    accepted: pd.DataFrame,
    received: pd.DataFrame,
    freed: pd.DataFrame,
    warnings: pd.DataFrame,
) -> pd.DataFrame:
    """Accepted rows plus the freed ones, in RECEIVED order, with fresh warning counts."""
    if freed.empty:
        return accepted
    cands = candidates_of(received).reset_index(drop=True)
    cand_key = _row_index(cands)
    moved = cands[cand_key.isin(_row_index(freed))].reindex(columns=accepted.columns)
    counts = warnings.groupby(frames.ROW_KEY).size()
    moved["warning_count"] = counts.reindex(_row_index(moved)).fillna(0).astype("int64").to_numpy()
    both = pd.concat([accepted, moved], ignore_index=True)
    position = pd.Series(range(len(cands)), index=cand_key).reindex(_row_index(both))
    both = both.iloc[position.to_numpy().argsort(kind="stable")].reset_index(drop=True)
    return both.astype(accepted.dtypes.to_dict())


#: How the reason of a row a steward did not keep begins (that choice is never undone).
STEWARD_KEPT = "审核员 "


def apply_keeps(received: pd.DataFrame, waivers: pd.DataFrame) -> pd.DataFrame:
    """Supersede the rows a steward did not keep when resolving a duplicate.

    For each ``KEEP`` waiver (the newest per unit and day wins) whose row is still a
    candidate sharing its unit and day with other candidates, those others become
    ``superseded`` by the kept row's file, with who and why in ``superseded_reason``. A
    waiver whose row is gone or no longer duplicated (corrected, re-sent) does nothing.
    """
    if waivers is None or waivers.empty or received.empty:
        return received
    keeps = _keyed(waivers)
    keeps = keeps[keeps["rule"] == KEEP]
    if keeps.empty:
        return received
    keeps = keeps.assign(**{c: keeps.get(c, "") for c in _WHO})
    keeps = keeps.assign(at=keeps.get("at", pd.NaT))
    keeps = keeps[[*frames.ROW_KEY, "at", *_WHO]]
    rows = _keyed(received[[*frames.ROW_KEY, "unit_code", "period", "disposition"]])
    rows = rows.assign(_pos=range(len(rows)))
    cands = rows[rows["disposition"] != "superseded"].dropna(subset=["unit_code", "period"])
    kept = keeps.merge(cands, on=frames.ROW_KEY, how="inner")
    if kept.empty:
        return received
    kept = kept.sort_values("at", kind="stable")
    kept = kept.drop_duplicates(["unit_code", "period"], keep="last")
    group = cands.merge(
        kept[["unit_code", "period", "_pos", "file_id", *_WHO]].rename(
            columns={"_pos": "_kept", "file_id": "_by"}
        ),
        on=["unit_code", "period"],
        how="inner",
    )
    others = group[group["_pos"] != group["_kept"]]
    if others.empty:
        return received
    out = received.copy()
    at = out.index[others["_pos"].to_numpy()]
    who = others["username"].fillna("").astype("str").to_numpy()
    why = others["justification"].fillna("").astype("str").to_numpy()
    out.loc[at, "disposition"] = "superseded"
    out.loc[at, "superseded_by"] = others["_by"].astype("str").to_numpy()
    out.loc[at, "superseded_reason"] = [
        f"{STEWARD_KEPT}{w} 处理重复上报时保留了另一行（{y}） / "
        f"steward {w} resolved the duplicate by keeping another row ({y})"
        for w, y in zip(who, why, strict=True)
    ]
    return out
