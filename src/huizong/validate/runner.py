"""Run a GX suite over a frame and return every failing row as one long frame.

The ephemeral context, pandas datasource and whole-dataframe batch definition are made
once per process (creating them costs more than validating a day of a small city).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

import pandas as pd

from huizong import frames
from huizong.validate.suites import DAY_PARAMETER, expectation_info, import_gx

#: Columns of the failures frame returned by :func:`run_suite`.
FAILURE_COLUMNS = ["rule", "severity", "column", *frames.ROW_KEY]


class ReceivedContractError(ValueError):
    """RECEIVED does not have the shape the contract promises (a bug upstream, not a
    clerk's mistake): validation stops rather than quarantining rows for it."""


@cache
def _batch_definition() -> Any:
    gx = import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("huizong").add_dataframe_asset("received")
    return asset.add_batch_definition_whole_dataframe("whole")


def _batch(frame: pd.DataFrame) -> Any:
    return _batch_definition().get_batch(batch_parameters={"dataframe": frame})


def _raise_on_structure(result: Any) -> None:
    missing = []
    for res in result.results:
        if not res.success:
            details = (res.result or {}).get("details", {}).get("mismatched", {})
            missing += list(details.get("missing", [])) or [str(res.expectation_config.type)]
    if missing:
        raise ReceivedContractError(f"RECEIVED lacks columns {missing}")


def _validate(batch: Any, suite: Any, day: date, result_format: Any) -> Any:
    return batch.validate(
        suite,
        result_format=result_format,
        expectation_parameters={DAY_PARAMETER: [day.isoformat()]},
    )


def _columns_used(expectation: dict[str, Any]) -> set[str]:
    kw = expectation.get("kwargs", {})
    cols = {kw.get("column"), kw.get("column_A"), kw.get("column_B"), *kw.get("column_list", [])}
    cond = kw.get("row_condition")
    if isinstance(cond, dict):
        cols.add((cond.get("column") or {}).get("name"))
    return {c for c in cols if isinstance(c, str)}


def _is_table_level(expectation: dict[str, Any]) -> bool:
    return expectation["type"].startswith("expect_table_")


def _subsuite(gx: Any, data: dict[str, Any], keep: Any) -> Any:
    part = dict(data)
    part["expectations"] = [e for e in data["expectations"] if keep(e)]
    return gx.ExpectationSuite(**part)


def run_suite(frame: pd.DataFrame, suite: Any, day: date) -> pd.DataFrame:
    """Validate ``frame`` and list every (rule, failing row) as FAILURE_COLUMNS.

    Table-level checks (columns present) run on the frame's empty head; row checks run on
    only the columns they use, consolidated (GX copies the frame per expectation: this
    cuts the time by 3-4x). Row checks go in two passes: BOOLEAN_ONLY over all of them
    (about a third of GX's fixed cost), then COMPLETE with the row key only for those
    that failed.
    """
    gx = import_gx()
    data = suite.to_json_dict()
    table = _subsuite(gx, data, _is_table_level)
    rows = {**data, "expectations": [e for e in data["expectations"] if not _is_table_level(e)]}
    structure = _validate(_batch(frame.iloc[:0]), table, day, "SUMMARY")
    _raise_on_structure(structure)

    used = set().union(*(_columns_used(e) for e in rows["expectations"]))
    # copy() consolidates the float columns into one block: GX takes rows out of the
    # frame once per expectation, and one 2-D take is far cheaper than 40 1-D ones
    slim = frame[[c for c in frame.columns if c in used or c in frames.ROW_KEY]].copy()
    batch = _batch(slim)
    first = _validate(batch, gx.ExpectationSuite(**rows), day, "BOOLEAN_ONLY")
    failed = set()
    for res in first.results:
        if not res.success:
            rule, _, _ = expectation_info(res.expectation_config)
            failed.add(rule)
    if not failed:
        return _no_failures()
    result = _validate(
        batch,
        _subsuite(gx, rows, lambda e: (e.get("meta") or {}).get("rule") in failed),
        day,
        {
            "result_format": "COMPLETE",
            "unexpected_index_column_names": list(frames.ROW_KEY),
            "return_unexpected_index_query": False,
        },
    )
    parts = []
    broken = []
    for res in result.results:
        if res.success:
            continue
        rule, severity, column = expectation_info(res.expectation_config)
        info = res.exception_info or {}
        if info.get("raised_exception"):
            broken.append(f"{rule}: {info.get('exception_message')}")
            continue
        index_list = res.result.get("unexpected_index_list") or []
        if not index_list:  # failed without naming rows: never let that pass silently
            broken.append(f"{rule}: failed without listing the failing rows")
            continue
        keys = pd.DataFrame.from_records(index_list, columns=frames.ROW_KEY)
        keys.insert(0, "column", column)
        keys.insert(0, "severity", severity)
        keys.insert(0, "rule", rule)
        parts.append(keys)
    if broken:
        raise ReceivedContractError("expectations could not run: " + "; ".join(broken))
    if not parts:
        return _no_failures()
    out = pd.concat(parts, ignore_index=True)
    out["row_number"] = out["row_number"].astype("int64")
    return out[FAILURE_COLUMNS]


def _no_failures() -> pd.DataFrame:
    empty = pd.DataFrame({c: pd.Series(dtype="str") for c in FAILURE_COLUMNS})
    return empty.astype({"row_number": "int64"})
