"""Frames for the quality checks' unit tests: a registry from unit tuples, typed rows."""

from __future__ import annotations

import pandas as pd

from huizong.catalogue import Catalogue
from huizong.registry import Registry
from huizong.registry.divisions import ORG_UNIT_COLUMNS


def registry_of(units: list[tuple[str, str, int, str, str]], root: str) -> Registry:
    """A registry of (code, name, level, kind, parent) tuples; department codes (not all
    digits) get no ancestor codes."""
    frame = pd.DataFrame(units, columns=["code", "name", "level", "kind", "parent_code"])
    digits = frame["code"].str.isdigit()
    for col, level, length in (
        ("province_code", 1, 2),
        ("city_code", 2, 4),
        ("county_code", 3, 6),
        ("township_code", 4, 9),
    ):
        frame[col] = frame["code"].str.slice(0, length).where(digits & (frame["level"] >= level))
    frame["full_name"] = frame["name"]
    return Registry(units=frame.reindex(columns=ORG_UNIT_COLUMNS), root=root)


def typed(frame: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Every numeric indicator as Int64, NA where not given (like ACCEPTED / history)."""
    for ind in catalogue.numeric:
        col = frame[ind.code] if ind.code in frame else pd.Series(pd.NA, index=frame.index)
        frame[ind.code] = col.astype("Int64")
    return frame
