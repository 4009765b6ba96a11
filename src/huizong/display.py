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
