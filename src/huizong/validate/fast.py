"""The suite's row checks as one vectorised pass: GX defines the rules, numpy applies them.

Great Expectations stays the engine of record: the suite JSON in ``expectations/`` is the
only statement of the rules, Data Docs render it, and ``HUIZONG_VALIDATION_ENGINE=gx``
runs it through GX itself. This module reads the same JSON (expectation types and their
kwargs) and evaluates each expectation as a boolean mask over the frame, with GX's pandas
semantics (nulls skipped by column-map checks, ``ignore_row_if``, ``keep=False``
duplicates, inclusive bounds unless ``strict_*``), so that it lists exactly the failing
rows GX lists. It is about a hundred times faster than GX on a national day because GX
copies the frame and builds metrics per expectation.

An expectation whose type, kwargs or row condition this module does not know is never
skipped: it is handed to GX (:func:`huizong.validate.runner.run_suite`) with the others
of its kind, and its failures join the same list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from huizong import frames
from huizong.validate.runner import FAILURE_COLUMNS, ReceivedContractError, run_suite
from huizong.validate.suites import DAY_PARAMETER, SEVERITY

#: A mask of the rows an expectation lists as unexpected, from (frame, kwargs).
Check = Callable[[pd.DataFrame, dict[str, Any]], np.ndarray]


class Unsupported(Exception):
    """This expectation is not one the vectorised pass evaluates: GX must run it."""


def _known(kwargs: dict[str, Any], allowed: set[str]) -> None:
    extra = {k for k, v in kwargs.items() if k not in allowed and v is not None}
    # ``mostly`` = 1 is GX's default; anything less changes when the check fails
    if kwargs.get("mostly") not in (None, 1, 1.0):
        extra.add("mostly")
    if extra:
        raise Unsupported(f"kwargs {sorted(extra)}")


def _evaluated(frame: pd.DataFrame, kwargs: dict[str, Any]) -> np.ndarray:
    """Rows the row condition selects (all rows without one); only nullity conditions."""
    cond = kwargs.get("row_condition")
    if cond is None:
        return np.ones(len(frame), dtype=bool)
    if (
        not isinstance(cond, dict)
        or cond.get("type") != "nullity"
        or set(cond) - {"type", "column", "is_null"}
        or not isinstance((cond.get("column") or {}).get("name"), str)
    ):
        raise Unsupported(f"row_condition {cond!r}")
    isna = frame[cond["column"]["name"]].isna().to_numpy(bool)
    return isna if cond.get("is_null") else ~isna


_COMMON = {"row_condition", "mostly", "result_format", "catch_exceptions", "meta"}


def _not_null(frame: pd.DataFrame, kw: dict[str, Any]) -> np.ndarray:
    _known(kw, _COMMON | {"column"})
    return _evaluated(frame, kw) & frame[kw["column"]].isna().to_numpy(bool)


def _in_set(frame: pd.DataFrame, kw: dict[str, Any]) -> np.ndarray:
    _known(kw, _COMMON | {"column", "value_set"})
    col = frame[kw["column"]]
    values = kw["value_set"]
    if not isinstance(values, list | tuple | set):
        raise Unsupported("value_set")
    missing = col.isna().to_numpy(bool)
    return _evaluated(frame, kw) & ~missing & ~col.isin(list(values)).to_numpy(bool)


def _between(frame: pd.DataFrame, kw: dict[str, Any]) -> np.ndarray:
    _known(kw, _COMMON | {"column", "min_value", "max_value", "strict_min", "strict_max"})
    col = frame[kw["column"]]
    lo, hi = kw.get("min_value"), kw.get("max_value")
    if lo is None and hi is None:
        raise Unsupported("no bounds")  # GX raises: let it say so
    if not pd.api.types.is_numeric_dtype(col.dtype) or isinstance(lo, str) or isinstance(hi, str):
        raise Unsupported(f"non-numeric between on {kw['column']}")
    values = col.to_numpy("float64", na_value=np.nan)
    present = ~np.isnan(values)
    ok = np.ones(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        if lo is not None:
            ok &= values > lo if kw.get("strict_min") else values >= lo
        if hi is not None:
            ok &= values < hi if kw.get("strict_max") else values <= hi
    return _evaluated(frame, kw) & present & ~ok


def _pair_rows(frame: pd.DataFrame, kw: dict[str, Any]) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Both columns and the rows compared: those the row condition selects and
    ``ignore_row_if`` keeps. A kept row with a missing value is left to GX."""
    a, b = frame[kw["column_A"]], frame[kw["column_B"]]
    how = kw.get("ignore_row_if", "both_values_are_missing")
    na_a, na_b = a.isna().to_numpy(bool), b.isna().to_numpy(bool)
    if how == "either_value_is_missing":
        keep = ~(na_a | na_b)
    elif how in ("both_values_are_missing", "neither"):
        keep = ~(na_a & na_b) if how == "both_values_are_missing" else np.ones(len(a), bool)
        if (na_a | na_b)[keep].any():
            raise Unsupported(f"pair with a missing value compared ({how})")
    else:
        raise Unsupported(f"ignore_row_if {how!r}")
    return a, b, keep & _evaluated(frame, kw)


def _pair_equal(frame: pd.DataFrame, kw: dict[str, Any]) -> np.ndarray:
    _known(kw, _COMMON | {"column_A", "column_B", "ignore_row_if"})
    a, b, keep = _pair_rows(frame, kw)
    equal = np.zeros(len(frame), dtype=bool)
    equal[keep] = (a[keep].to_numpy(object) == b[keep].to_numpy(object)).astype(bool)
    return keep & ~equal


def _pair_greater(frame: pd.DataFrame, kw: dict[str, Any]) -> np.ndarray:
    _known(kw, _COMMON | {"column_A", "column_B", "ignore_row_if", "or_equal"})
    a, b, keep = _pair_rows(frame, kw)
    if not all(pd.api.types.is_numeric_dtype(c.dtype) for c in (a, b)):
        raise Unsupported("non-numeric pair comparison")
    va = a.to_numpy("float64", na_value=np.nan)
    vb = b.to_numpy("float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        ok = va >= vb if kw.get("or_equal") else va > vb
    return keep & ~ok


def _compound_unique(frame: pd.DataFrame, kw: dict[str, Any]) -> np.ndarray:
    _known(kw, _COMMON | {"column_list", "ignore_row_if"})
    cols = list(kw["column_list"])
    how = kw.get("ignore_row_if", "all_values_are_missing")
    na = frame[cols].isna().to_numpy(bool)
    if how == "any_value_is_missing":
        keep = ~na.any(axis=1)
    elif how == "all_values_are_missing":
        if na.any(axis=1)[~na.all(axis=1)].any():
            raise Unsupported("duplicates among rows with some values missing")
        keep = ~na.all(axis=1)
    else:
        raise Unsupported(f"ignore_row_if {how!r}")
    keep &= _evaluated(frame, kw)
    dup = np.zeros(len(frame), dtype=bool)
    dup[keep] = frame.loc[keep, cols].duplicated(keep=False).to_numpy(bool)
    return dup


#: GX expectation type → its vectorised check (GX's pandas semantics).
CHECKS: dict[str, Check] = {
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_be_between": _between,
    "expect_column_pair_values_to_be_equal": _pair_equal,
    "expect_column_pair_values_a_to_be_greater_than_b": _pair_greater,
    "expect_compound_columns_to_be_unique": _compound_unique,
}


def _resolved(kwargs: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """kwargs with ``{"$PARAMETER": name}`` values replaced by the run's parameters."""
    out = {}
    for key, value in kwargs.items():
        if isinstance(value, dict) and set(value) == {"$PARAMETER"}:
            value = parameters[value["$PARAMETER"]]
        out[key] = value
    return out


def _structure(frame: pd.DataFrame, expectation: dict[str, Any]) -> None:
    """``expect_table_columns_to_match_set`` (not exact): every listed column present."""
    kw = expectation["kwargs"]
    _known(kw, _COMMON | {"column_set", "exact_match"})
    if kw.get("exact_match"):
        raise Unsupported("exact_match")
    missing = [c for c in kw["column_set"] if c not in frame.columns]
    if missing:
        raise ReceivedContractError(f"RECEIVED lacks columns {missing}")


def _info(expectation: dict[str, Any]) -> tuple[str, str, str | None]:
    """(rule, severity, column) as :func:`huizong.validate.suites.expectation_info` gives."""
    meta = expectation.get("meta") or {}
    severity = SEVERITY.get(str(expectation.get("severity") or "critical"), "error")
    return meta.get("rule", expectation["type"]), severity, meta.get("column")


def split_suite(
    frame: pd.DataFrame, data: dict[str, Any], day: date
) -> tuple[list[tuple[dict[str, Any], np.ndarray]], list[dict[str, Any]]]:
    """(expectation, unexpected-row mask) for every expectation evaluated here, and the
    expectations that GX must run. Table checks raise on a frame that lacks columns."""
    parameters = {DAY_PARAMETER: [day.isoformat()]}
    done: list[tuple[dict[str, Any], np.ndarray]] = []
    for_gx: list[dict[str, Any]] = []
    for exp in data["expectations"]:
        try:
            if exp["type"] == "expect_table_columns_to_match_set":
                _structure(frame, exp)
                continue
            check = CHECKS.get(exp["type"])
            if check is None:
                raise Unsupported(exp["type"])
            kwargs = _resolved(exp.get("kwargs") or {}, parameters)
            done.append((exp, check(frame, kwargs)))
        except Unsupported:
            for_gx.append(exp)
        except KeyError as exc:  # a column the suite names is not in the frame
            raise ReceivedContractError(f"RECEIVED lacks columns [{exc.args[0]!r}]") from None
    return done, for_gx


def run_suite_fast(frame: pd.DataFrame, data: dict[str, Any], day: date) -> pd.DataFrame:
    """Every (rule, failing row) of the suite ``data`` (its JSON) as FAILURE_COLUMNS, the
    same list :func:`huizong.validate.runner.run_suite` returns for the same suite."""
    done, for_gx = split_suite(frame, data, day)
    keys = frame[list(frames.ROW_KEY)]
    parts = []
    for exp, mask in done:
        if not mask.any():
            continue
        rule, severity, column = _info(exp)
        part = keys[mask].reset_index(drop=True)
        part.insert(0, "column", column)
        part.insert(0, "severity", severity)
        part.insert(0, "rule", rule)
        parts.append(part)
    if for_gx:
        from huizong.validate.suites import import_gx

        gx = import_gx()
        rest = gx.ExpectationSuite(**{**data, "expectations": for_gx})
        parts.append(run_suite(frame, rest, day))
    parts = [p for p in parts if not p.empty]
    if not parts:
        empty = pd.DataFrame({c: pd.Series(dtype="str") for c in FAILURE_COLUMNS})
        return empty.astype({"row_number": "int64"})
    out = pd.concat(parts, ignore_index=True)
    out = out.astype({"file_id": "str", "sheet": "str", "row_number": "int64"})
    return out[FAILURE_COLUMNS]
