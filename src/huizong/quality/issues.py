"""Shared plumbing of the quality checks: evidence formatting and the ISSUE frame.

Every check returns ISSUE rows (``huizong.frames.ISSUE_COLUMNS``, severity "warning")
attached to a real row (file, sheet, row number), so the review page can show the
original row and a steward can mark the warning reviewed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from huizong import frames
from huizong.catalogue import Catalogue

SEVERITY = "warning"
#: Row identity copied from the row a warning is about.
ROW_META = ["file_id", "file_name", "sheet", "row_number", "unit_code", "unit_name"]


def empty() -> pd.DataFrame:
    """No warnings, with the same dtypes validate uses for its own."""
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in frames.ISSUE_COLUMNS})
    return frame.astype({"row_number": "int64"})


def num(values: pd.Series | np.ndarray) -> pd.Series:
    """Evidence numbers as text: integers plainly, others with one decimal ("2.5")."""
    v = pd.Series(np.asarray(values, dtype="float64")).round(1)
    whole = v == np.floor(v)
    ints = v.where(whole).astype("Int64").astype("str")
    text = ints.where(whole, v.astype("str"))
    return text.where(v.notna(), "").astype("str")


def cat(*parts: pd.Series | str) -> pd.Series:
    """Concatenate aligned text Series and literals (a vectorised f-string)."""
    series = [p for p in parts if isinstance(p, pd.Series)]
    if not series:
        raise ValueError("cat() needs at least one Series")
    index = series[0].index
    out = pd.Series("", index=index, dtype="str")
    for part in parts:
        out = out + (part.astype("str").fillna("") if isinstance(part, pd.Series) else part)
    return out


def labels(codes: pd.Series, catalogue: Catalogue) -> tuple[pd.Series, pd.Series]:
    """Chinese and English labels of indicator codes."""
    zh = {i.code: i.zh for i in catalogue.indicators}
    en = {i.code: i.en for i in catalogue.indicators}
    return codes.map(zh).astype("str"), codes.map(en).astype("str")


def build(
    rows: pd.DataFrame,
    day_iso: str,
    column: pd.Series,
    value: pd.Series,
    rule: pd.Series,
    zh: pd.Series,
    en: pd.Series,
) -> pd.DataFrame:
    """ISSUE rows: ``rows`` holds ROW_META of the row each warning is about (aligned by
    position with the other Series)."""
    if not len(rows):
        return empty()
    meta = rows.reindex(columns=ROW_META).reset_index(drop=True)
    out = pd.DataFrame(
        {
            "period": day_iso,
            **{c: meta[c] for c in ROW_META},
            "column": np.asarray(column, dtype=object),
            "value": np.asarray(value, dtype=object),
            "rule": np.asarray(rule, dtype=object),
            "severity": SEVERITY,
            "message_zh": np.asarray(zh, dtype=object),
            "message_en": np.asarray(en, dtype=object),
        }
    )
    return finish(out)


def finish(issues: pd.DataFrame) -> pd.DataFrame:
    """Column order, dtypes and a deterministic order (as validate's ``_finish``)."""
    if issues.empty:
        return empty()
    out = issues[frames.ISSUE_COLUMNS].sort_values(
        [*frames.ROW_KEY, "rule", "column"], kind="stable"
    )
    rn = pd.to_numeric(out["row_number"]).astype("Int64")
    text = [c for c in frames.ISSUE_COLUMNS if c != "row_number"]
    out = out.astype(dict.fromkeys(text, "str"))
    out["row_number"] = rn.astype("int64") if rn.notna().all() else rn
    return out.reset_index(drop=True)
