"""validate_rows + account on one frame with a planted failure of every expectation family.

One validation per engine for the whole module (GX costs seconds per run; the cases run
on the vectorised pass and on GX itself, which must agree): each case is a row
number; the test asserts the exact set of (row, rule) failures, so a planted failure that
is missed and a clean row that is flagged both fail.
"""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import pandas as pd
import pytest

from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.registry import load_registry
from huizong.validate import ReceivedContractError, account, validate_rows
from huizong.validate.sample import received_frame

DAY = date(2026, 11, 26)
FILE_A, FILE_B, FILE_C = "a" * 64, "b" * 64, "c" * 64


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def _blank(catalogue) -> dict:
    return {i.code: None for i in catalogue.numeric}


@pytest.fixture(scope="module", params=["fast", "gx"])
def engine(request) -> SimpleNamespace:
    """Settings naming the validation engine: every case runs on both."""
    return SimpleNamespace(validation_engine=request.param)


@pytest.fixture(scope="module")
def case(catalogue, registry, engine):
    villages = registry.units.loc[registry.units["level"] == 5, "code"].tolist()
    township = registry.units.loc[registry.units["level"] == 4, "code"].iloc[0]
    department = registry.units.loc[registry.units["kind"] == "department", "code"].iloc[0]
    screened = catalogue.indicator("persons_screened")
    v = iter(villages)
    cell_errors = json.dumps(
        [
            {"column": "masks_in_stock", "raw": "很多", "zh": "不是数字", "en": "not a number"},
            {"column": "persons_screened", "raw": "3.5", "zh": "不是整数", "en": "not whole"},
        ],
        ensure_ascii=False,
    )
    first = next(v)
    dup = next(v)
    rows = {
        2: {"unit_code": first},  # all zeros: a real zero report
        3: {"unit_code": next(v), **_blank(catalogue)},  # all blank
        4: {
            "unit_code": next(v),
            **_blank(catalogue),
            "not_applicable": ",".join(i.code for i in catalogue.numeric),
        },
        5: {"unit_code": next(v), "masks_in_stock": -5},
        6: {"unit_code": next(v), "persons_screened": screened.max + 1},
        7: {"unit_code": next(v), "persons_screened": screened.max},
        8: {"unit_code": next(v), "persons_screened": screened.warn_above},
        9: {"unit_code": next(v), "persons_screened": screened.warn_above + 1},
        11: {"unit_code": None},
        12: {"unit_code": township},
        13: {"unit_code": department, "claimed_kind": "department"},
        14: {"unit_code": next(v), "claimed_kind": "department"},
        15: {"unit_code": next(v), "period": "2026-11-25"},
        16: {"unit_code": next(v), "period": None, "period_raw": "昨天"},
        17: {"unit_code": dup},
        18: {"unit_code": dup},
        20: {"unit_code": next(v), "cell_errors": cell_errors, "masks_in_stock": None},
        21: {"unit_code": next(v), "returnees_new": 5, "returnees_total": 3},
        22: {"unit_code": next(v), "returnees_new": 5, "returnees_total": None},
        23: {"unit_code": next(v), "checkpoints": 5, "checkpoint_staff": 2},
        24: {"unit_code": next(v), "returnees_new": 3, "returnees_total": 3},
    }
    listed = [{"file_id": FILE_A, "row_number": n, **r} for n, r in rows.items()]
    # file B: a revision's leftovers, superseded (same unit as row 2, and invalid)
    listed.append(
        {
            "file_id": FILE_B,
            "row_number": 2,
            "unit_code": first,
            "masks_in_stock": -5,
            "disposition": "superseded",
            "superseded_by": FILE_A,
            "superseded_reason": "later revision",
        }
    )
    # file C: a single row with an unknown unit
    listed.append({"file_id": FILE_C, "row_number": 10, "unit_code": "130999999999"})
    received = received_frame(catalogue, listed)
    result = validate_rows(received, DAY, catalogue, registry, engine)
    return received, result


def _pairs(issues: pd.DataFrame) -> set[tuple[str, int, str]]:
    return {
        (f[0], int(r), rule)
        for f, r, rule in zip(issues["file_id"], issues["row_number"], issues["rule"], strict=True)
    }


def test_every_planted_error_is_caught_exactly(case):
    _, result = case
    a = FILE_A
    assert _pairs(result.quarantine) == {
        (a[0], 5, "min:masks_in_stock"),
        (a[0], 6, "max:persons_screened"),
        (FILE_C[0], 10, "unit_known"),
        (a[0], 11, "unit_code_present"),
        (a[0], 12, "unit_kind"),
        (a[0], 14, "unit_kind"),
        (a[0], 15, "period_is_day"),
        (a[0], 16, "period_present"),
        (a[0], 17, "unique_unit_day"),
        (a[0], 18, "unique_unit_day"),
        (a[0], 20, "cell_parse"),
        (a[0], 21, "rule:returnees_new_le_total"),
    }


def test_warnings_are_caught_and_do_not_block(case):
    _, result = case
    assert _pairs(result.warnings) == {
        ("a", 3, "empty_report"),  # all blank: passes, but is no report (all zeros is one)
        ("a", 7, "warn_above:persons_screened"),
        ("a", 9, "warn_above:persons_screened"),
        ("a", 23, "rule:checkpoint_staff_ge_checkpoints"),
    }
    acc = result.accepted.set_index("row_number")
    assert {7, 9, 23} <= set(acc.index)
    assert acc.loc[9, "warning_count"] == 1
    assert acc.loc[2, "warning_count"] == 0
    assert (result.warnings["severity"] == "warning").all()
    assert (result.quarantine["severity"] == "error").all()


def test_zero_blank_and_not_applicable_pass(case):
    _, result = case
    acc = result.accepted[result.accepted["file_id"] == FILE_A]
    assert {2, 3, 4, 8, 13, 22, 24} <= set(acc["row_number"])
    blank = acc[acc["row_number"] == 3].iloc[0]
    zero = acc[acc["row_number"] == 2].iloc[0]
    assert pd.isna(blank["masks_in_stock"]) and zero["masks_in_stock"] == 0


def test_accepted_keeps_received_columns_and_dtypes(case, catalogue):
    received, result = case
    assert list(result.accepted.columns) == [*received.columns, "warning_count"]
    for ind in catalogue.numeric:
        assert result.accepted[ind.code].dtype == "Int64"
    assert result.accepted["warning_count"].dtype == "int64"
    assert list(result.quarantine.columns) == frames.ISSUE_COLUMNS
    assert list(result.warnings.columns) == frames.ISSUE_COLUMNS


def test_superseded_rows_are_not_validated(case):
    _, result = case
    assert FILE_B not in set(result.accepted["file_id"])
    assert FILE_B not in set(result.quarantine["file_id"])
    # the superseded row shares row 2's unit and day: no duplicate reported for row 2
    assert not (
        (result.quarantine["file_id"] == FILE_A) & (result.quarantine["row_number"] == 2)
    ).any()


def test_messages_name_label_value_and_bound(case, catalogue):
    _, result = case
    q = result.quarantine.set_index(["row_number", "rule"])
    neg = q.loc[(5, "min:masks_in_stock")]
    assert neg["message_zh"] == "口罩库存 填报为 -5，不能为负数，请核实后重报"
    assert (
        neg["message_en"]
        == "Masks in stock is -5: it cannot be negative; please correct and resubmit"
    )
    assert neg["value"] == "-5" and neg["column"] == "masks_in_stock"
    high = q.loc[(6, "max:persons_screened")]
    screened = catalogue.indicator("persons_screened")
    assert str(screened.max + 1) in high["message_zh"] and str(screened.max) in high["message_zh"]
    assert "排查登记人数" in high["message_zh"]
    assert "130999999999" in q.loc[(10, "unit_known")]["message_zh"]
    assert "乡镇/街道" in q.loc[(12, "unit_kind")]["message_zh"]
    assert "2026-11-25" in q.loc[(15, "period_is_day")]["message_zh"]
    assert "昨天" in q.loc[(16, "period_present")]["message_zh"]
    assert "2 行" in q.loc[(17, "unique_unit_day")]["message_zh"]
    rule = q.loc[(21, "rule:returnees_new_le_total")]
    assert "新增返乡人员 填报为 5" in rule["message_zh"] and "3" in rule["message_zh"]
    assert (result.quarantine["period"] == DAY.isoformat()).all()


def test_each_unparseable_cell_is_one_issue(case):
    _, result = case
    cells = result.quarantine[result.quarantine["rule"] == "cell_parse"]
    assert sorted(cells["column"]) == ["masks_in_stock", "persons_screened"]
    assert set(cells["value"]) == {"很多", "3.5"}
    assert cells["message_zh"].str.contains("口罩库存|排查登记人数").all()


def test_accounting_on_the_real_result(case):
    received, result = case
    n_a = int((received["file_id"] == FILE_A).sum())
    ledger = pd.DataFrame(
        {
            "file_id": [FILE_A, FILE_B, FILE_C, "d" * 64, "e" * 64],
            "rows_received": [n_a, 1, 1, 0, 0],
            "status": [None, None, None, "rejected", "duplicate"],
        }
    ).reindex(columns=frames.LEDGER_COLUMNS)
    ledger["rows_received"] = ledger["rows_received"].astype("int64")
    out = account(ledger, received, result).set_index("file_id")
    error_rows_a = 11  # rows 5, 6, 11, 12, 14, 15, 16, 17, 18, 20, 21
    assert out.loc[FILE_A, "rows_quarantined"] == error_rows_a
    assert out.loc[FILE_A, "rows_accepted"] == n_a - error_rows_a
    assert out.loc[FILE_A, "status"] == "partly_quarantined"
    assert out.loc[FILE_B, ["rows_superseded", "status"]].tolist() == [1, "superseded"]
    assert out.loc[FILE_C, ["rows_quarantined", "status"]].tolist() == [1, "quarantined"]
    assert out.loc["d" * 64, "status"] == "rejected"
    assert out.loc["e" * 64, "status"] == "duplicate"


def test_the_reporting_day_is_a_run_time_parameter(catalogue, registry):
    rows = received_frame(catalogue, [{"period": "2026-11-27"}])
    other_day = validate_rows(rows, date(2026, 11, 27), catalogue, registry, None)
    assert other_day.quarantine.empty and len(other_day.accepted) == 1
    assert _pairs(validate_rows(rows, DAY, catalogue, registry, None).quarantine) == {
        ("f", 2, "period_is_day")
    }


def test_nothing_to_validate_needs_no_gx_run(catalogue, registry):
    rows = received_frame(catalogue, [{"disposition": "superseded"}])
    result = validate_rows(rows, DAY, catalogue, registry, None)
    assert result.accepted.empty and result.quarantine.empty and result.warnings.empty
    assert list(result.quarantine.columns) == frames.ISSUE_COLUMNS


def test_a_frame_breaking_the_contract_stops_validation(catalogue, registry, engine):
    rows = received_frame(catalogue, [{}]).drop(columns=["masks_in_stock"])
    with pytest.raises(ReceivedContractError, match="masks_in_stock"):
        validate_rows(rows, DAY, catalogue, registry, engine)


def test_the_rows_the_day_and_a_partial_validation_order_issues_with_one_function() -> None:
    """validate.day kept its own copy of the rows' issue ordering (``_sorted`` beside
    ``_finish``): two copies drift. One function orders them for all three, and it orders
    by row key, rule, column with the issue dtypes whatever order it is given."""
    from huizong.validate import day, partial, rows

    assert day.sorted_issues is rows.sorted_issues is partial.sorted_issues
    assert not hasattr(day, "_sorted") and not hasattr(rows, "_finish")
    base = {c: "x" for c in frames.ISSUE_COLUMNS}
    given = pd.DataFrame(
        [
            {**base, "file_id": "b", "row_number": 2, "rule": "min:a"},
            {**base, "file_id": "a", "row_number": 9, "rule": "max:a"},
            {**base, "file_id": "a", "row_number": 3, "rule": "min:a"},
            {**base, "file_id": "a", "row_number": 3, "rule": "max:a"},
        ]
    )
    out = rows.sorted_issues(given)
    assert list(zip(out["file_id"], out["row_number"], out["rule"], strict=True)) == [
        ("a", 3, "max:a"),
        ("a", 3, "min:a"),
        ("a", 9, "max:a"),
        ("b", 2, "min:a"),
    ]
    assert out.columns.tolist() == frames.ISSUE_COLUMNS
    assert out.dtypes.to_dict() == rows.empty_issues().dtypes.to_dict()
