"""Which org units a steward may see and act on: their assigned units and everything below.

Official codes nest by prefix (province 2 digits, city 4, county 6, township 9, village
12), so a unit is in a scope when its code starts with the scope's code. A department
(``<parent>D<nn>``) belongs wherever its parent code belongs. The nation code covers
everything, including rows whose unit code is blank or unknown; otherwise a row without a
unit code is in nobody's scope but the nation's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from huizong.registry.divisions import NATION_CODE

_DEPARTMENT = re.compile(r"^(\d+)D\d+$")


class ScopeError(PermissionError):
    """The steward may not see or act on this unit (HTTP 403)."""


def _geo_code(codes: pd.Series) -> pd.Series:
    """The official code a unit hangs under: itself, or a department's parent."""
    text = codes.astype("str")
    parent = text.str.extract(r"^(\d+)D\d+$", expand=False)
    return parent.fillna(text).astype("str")


def in_scope(codes: pd.Series, scopes: Iterable[str]) -> pd.Series:
    """Boolean mask: which unit codes lie in at least one of the scopes (vectorised)."""
    scopes = [str(s).strip() for s in scopes if s and str(s).strip()]
    codes = pd.Series(codes)
    if NATION_CODE in scopes:
        return pd.Series(True, index=codes.index)
    mask = pd.Series(False, index=codes.index)
    if not scopes or codes.empty:
        return mask
    known = codes.notna()
    text = codes.where(known, "").astype("str").str.strip()
    geo = _geo_code(text)
    for scope in scopes:
        if scope.isdigit():
            mask |= known & (text.str.startswith(scope) | geo.str.startswith(scope))
        else:  # a department (or any non-numeric code): only itself
            mask |= known & (text == scope)
    return mask


def unit_in_scope(code: str | None, scopes: Iterable[str]) -> bool:
    """One unit code, same rule as :func:`in_scope`."""
    return bool(in_scope(pd.Series([code], dtype="str"), scopes).iloc[0])


def check_scope(code: str | None, scopes: Iterable[str]) -> None:
    """Raise :class:`ScopeError` unless ``code`` is in one of the scopes."""
    if not unit_in_scope(code, scopes):
        # never echo the code: for a row addressed by file and line it is not public
        raise ScopeError("该单位不在您负责的单位之内 / this unit is outside your assigned units")


def is_department(code: str) -> bool:
    return bool(_DEPARTMENT.match(code))
