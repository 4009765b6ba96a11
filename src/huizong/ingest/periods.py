"""Reporting dates as clerks write them → ISO strings.

A file holds few distinct dates, so each distinct cell is parsed once (``pd.factorize``)
and the answers are mapped back: vectorised in effect, and tolerant of every form the
cells come in (Excel date cells, Excel serial numbers, "2026年11月26日", "2026/11/26").
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

_YMD = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*[T ]?\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_EXCEL_EPOCH = date(1899, 12, 30)
#: Serial numbers accepted as Excel dates: 2000-01-01 .. 2099-12-31.
_SERIAL_RANGE = (36526, 73050)


def parse_period(value: object) -> str | None:
    """One cell → ISO date, or None when it is not a recognisable date."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return _from_serial(float(value))
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    m = _YMD.match(text) or _COMPACT.match(text)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            return None
    try:
        return _from_serial(float(text))
    except ValueError:
        return None


def _from_serial(serial: float) -> str | None:
    if not serial.is_integer():  # also rules out NaN and infinity
        return None
    if not (_SERIAL_RANGE[0] <= serial <= _SERIAL_RANGE[1]):
        return None
    return (_EXCEL_EPOCH + timedelta(days=int(serial))).isoformat()


def raw_text(value: object) -> str | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float):
        if value != value:
            return None
        return str(int(value)) if value.is_integer() else str(value)
    text = str(value).strip()
    return text or None


def parse_periods(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(ISO period, raw text) for a column of period cells, both ``str`` with NA."""
    codes, uniques = pd.factorize(pd.Series(raw.to_numpy(), dtype=object), use_na_sentinel=True)
    iso = np.array([parse_period(u) for u in uniques] + [None], dtype=object)
    txt = np.array([raw_text(u) for u in uniques] + [None], dtype=object)
    return (
        pd.Series(iso[codes], dtype="str"),
        pd.Series(txt[codes], dtype="str"),
    )


_MONTH_DAY = re.compile(r"^(\d{1,2})\s*月\s*(\d{1,2})\s*日?$")


def periods_with_year(
    period: pd.Series, raw: pd.Series, years: pd.Series
) -> tuple[pd.Series, list[tuple[int, dict]]]:
    """Fill periods written without a year ("1月28日") from the file's own full date.

    A date without a year is ambiguous on its own; the year is taken only from a full
    date the file writes above its header (the 填报日期 line), passed per row in
    ``years`` (NA where the file has none: those periods stay unparsed and are
    quarantined). Each fill is returned as a coercion event (position, record).
    """
    todo = period.isna().to_numpy() & raw.notna().to_numpy() & years.notna().to_numpy()
    events: list[tuple[int, dict]] = []
    if not todo.any():
        return period, events
    out = period.copy()
    for p in np.flatnonzero(todo):
        text = unicodedata.normalize("NFKC", str(raw.iloc[p])).strip()
        m = _MONTH_DAY.match(text)
        if not m:
            continue
        try:
            iso = date(int(years.iloc[p]), int(m.group(1)), int(m.group(2))).isoformat()
        except ValueError:
            continue
        out.iloc[p] = iso
        events.append(
            (
                int(p),
                {"column": "period", "raw": text, "value": iso, "rule": "period_year_from_title"},
            )
        )
    return out, events
