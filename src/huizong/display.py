"""How a person reads a number or a time, the same on the pages, in the CLI and in reports.

One formatter each, so a total reads ``348,383`` on the review app as it does in the
workbook (``#,##0``), and a time reads ``2020-01-28 18:00:05 北京时间`` wherever it is
printed, never UTC with microseconds.
"""

from __future__ import annotations

import re

import pandas as pd

from huizong.settings import TIMEZONE

#: Decimals of a non-integer figure: the workbooks' ``#,##0.0``.
DECIMALS = 1


def grouped(value: object, decimals: int = DECIMALS) -> str:
    """A figure with thousands separators, as the workbooks print it: ``1,234`` for a
    whole number, else ``decimals`` places (``1,234.5``); blank when there is none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    try:
        if pd.isna(value):  # type: ignore[arg-type]  # NaN, NaT, pd.NA
            return ""
    except (TypeError, ValueError):
        pass
    number = float(value)  # type: ignore[arg-type]
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.{decimals}f}"


def figure(value: object, decimals: int, unit: str = "", *, sign: bool = False) -> str:
    """An indicator's figure to the catalogue's precision (``Indicator.decimals``): a
    count ``1,234``, a rate ``97.1%`` (never ``97.0749``); ``sign`` marks a difference
    ``+0.2%``. Blank when there is none."""
    if not grouped(value):
        return ""
    number = round(float(value), decimals)  # type: ignore[arg-type]
    text = f"{number:,.{decimals}f}"
    if sign and number > 0:
        text = "+" + text
    elif number == 0:
        text = text.lstrip("-")  # -0.0 reads 0.0
    return text + ("%" if unit == "%" else "")


def local_time(value: object) -> str:
    """A stored time as a clerk reads it: Beijing time (the receipts' zone), to the second,
    marked; a time without a zone is UTC, as the warehouse stores it. Blank if unknown."""
    if value is None:
        return ""
    try:
        stamp = pd.Timestamp(str(value)) if not isinstance(value, pd.Timestamp) else value
    except ValueError:
        return ""
    if pd.isna(stamp):
        return ""
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(TIMEZONE).strftime("%Y-%m-%d %H:%M:%S 北京时间")


#: An ISO time inside an identifier, as Airflow writes run ids
#: (``manual__2020-01-28T10:00:00.123+00:00``).
_ISO_IN_ID = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?")


def run_label(run_id: object) -> str:
    """A run id as a person reads it: the id's UTC time in Beijing time, the id kept beside
    it for whoever looks it up (``manual（2020-01-28 18:00:00 北京时间） manual__…+00:00``).
    Blank or ``—`` ids are returned as they are."""
    missing = run_id is None or (not isinstance(run_id, str) and pd.isna(run_id))
    text = "" if missing else str(run_id)
    found = _ISO_IN_ID.search(text)
    if not found:
        return text
    kind = text[: found.start()].rstrip("_") or "run"
    return f"{kind}（{local_time(found.group(0))}） {text}"


#: How a steward's correction file is marked where its reporter's file name is shown.
CORRECTION_MARK = "（审核更正 steward's correction）"


def shown_file_names(files: pd.DataFrame, actions: pd.DataFrame) -> pd.Series:
    """Per ledger row, the file name a person recognises. A steward's correction is stored
    as ``_corrections/<unit>-<UTC time>.csv``; it reads as the name of the reporter's file
    it revises (the audit row of the correction, written at the same instant as its
    receipt, names that file), marked 审核更正. The stored name is added only where two
    rows would otherwise read the same (two corrections of one file)."""
    from huizong.ingest.receipts import REVIEW

    names = files["file_name"].astype("str")
    if files.empty:
        return names
    shown = names.copy()
    review = (files.get("channel", pd.Series("", index=files.index)) == REVIEW).to_numpy()
    corrections = actions[actions["action"] == "correct"] if len(actions) else actions
    if review.any() and len(corrections):
        at = pd.to_datetime(corrections["at"], utc=True, format="ISO8601")
        revised = dict(zip(at, corrections["file_id"].astype("str"), strict=True))
        by_id = dict(zip(files["file_id"].astype("str"), names, strict=True))
        when = pd.to_datetime(files.loc[review, "received_at"], utc=True, format="ISO8601")
        original = [by_id.get(revised.get(t, ""), "") for t in when]
        shown[review] = [
            f"{o}{CORRECTION_MARK}" if o else n
            for o, n in zip(original, names[review], strict=True)
        ]
    clash = shown.duplicated(keep=False) & (shown != names)
    shown[clash] = shown[clash] + "（" + names[clash] + "）"
    return shown


def named_by_file(issues: pd.DataFrame, files: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """``issues`` (quarantined or warned rows) with each row's file named as
    :func:`shown_file_names` names it in ``files``, the ledger rows of its days; a row whose
    file is not among them keeps its stored name."""
    if issues.empty or files.empty:
        return issues
    shown = shown_file_names(files, actions)
    by_id = dict(zip(files["file_id"].astype("str"), shown, strict=True))
    out = issues.copy()
    out["file_name"] = out["file_id"].astype("str").map(by_id).fillna(out["file_name"])
    return out
