"""apply_waivers(): a steward's accepted value stops failing; the audit trail stays visible.

The validation result comes from the real GX suite (one validation, shared by the module).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.registry import load_registry
from huizong.review import store
from huizong.validate import ValidationResult, account, validate_rows
from huizong.validate.sample import received_frame
from huizong.validate.waivers import KEEP, WAIVED, apply_keeps, apply_waivers
from huizong.warehouse import day_waivers

DAY = date(2026, 11, 26)
F, OLD = "a" * 64, "b" * 64
U = ["130902001001", "130902001002", "130902001012", "130902001013"]  # villages of 新华区


@pytest.fixture(scope="module")
def received() -> pd.DataFrame:
    cat = load_catalogue()
    return received_frame(
        cat,
        [
            {
                "file_id": F,
                "row_number": 2,
                "unit_code": U[0],
                "persons_screened": 250_000,
            },  # one error
            {  # two errors and one warning
                "file_id": F,
                "row_number": 3,
                "unit_code": U[1],
                "persons_screened": 300_000,
                "households_visited": 200_000,
                "close_contacts": 300,
            },
            {"file_id": F, "row_number": 4, "unit_code": U[2]},  # clean
            {
                "file_id": F,
                "row_number": 5,
                "unit_code": U[3],
                "suspected_cases": 11_000,
            },  # error, no waiver
            {
                "file_id": OLD,
                "row_number": 2,
                "unit_code": U[0],
                "persons_screened": 999_999,
                "disposition": "superseded",
            },
        ],
    )


@pytest.fixture(scope="module")
def validated(received: pd.DataFrame) -> ValidationResult:
    return validate_rows(received, DAY, load_catalogue(), load_registry(None, None))


def _waivers(*items: tuple[str, int, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "period": DAY.isoformat(),
                "file_id": f,
                "sheet": "Sheet1",
                "row_number": r,
                "rule": rule,
                "username": "steward_a",
                "justification": "核实无误 checked by phone",
            }
            for f, r, rule in items
        ]
    )


def _keys(frame: pd.DataFrame, *cols: str) -> list[tuple]:
    return [tuple(r) for r in frame[["row_number", *cols]].itertuples(index=False)]


def test_the_planted_result_is_what_the_cases_assume(validated: ValidationResult) -> None:
    assert sorted(_keys(validated.quarantine, "rule")) == [
        (2, "max:persons_screened"),
        (3, "max:households_visited"),
        (3, "max:persons_screened"),
        (5, "max:suspected_cases"),
    ]
    assert validated.accepted["row_number"].tolist() == [4]
    assert _keys(validated.warnings, "rule") == [(3, "warn_above:close_contacts")]


def test_row_with_every_error_waived_moves_to_accepted(
    received: pd.DataFrame, validated: ValidationResult
) -> None:
    out = apply_waivers(validated, received, _waivers((F, 2, "max:persons_screened")))

    assert out.accepted["row_number"].tolist() == [2, 4]  # RECEIVED order
    moved = out.accepted[out.accepted["row_number"] == 2].iloc[0]
    assert moved["persons_screened"] == 250_000
    assert moved["warning_count"] == 1
    assert list(out.accepted.columns) == list(validated.accepted.columns)
    assert out.accepted.dtypes.to_dict() == validated.accepted.dtypes.to_dict()
    assert sorted(_keys(out.quarantine, "rule")) == [
        (3, "max:households_visited"),
        (3, "max:persons_screened"),
        (5, "max:suspected_cases"),
    ]
    note = out.warnings[out.warnings["rule"] == WAIVED + "max:persons_screened"]
    assert _keys(note, "column", "value", "severity") == [
        (2, "persons_screened", "250000", "warning")
    ]
    assert "steward_a" in note["message_en"].iloc[0]
    assert "核实无误 checked by phone" in note["message_zh"].iloc[0]
    assert len(out.warnings) == len(validated.warnings) + 1


def test_partly_waived_row_stays_quarantined_with_the_rest(
    received: pd.DataFrame, validated: ValidationResult
) -> None:
    out = apply_waivers(validated, received, _waivers((F, 3, "max:persons_screened")))

    assert out.accepted["row_number"].tolist() == [4]
    assert sorted(_keys(out.quarantine, "rule")) == [
        (2, "max:persons_screened"),
        (3, "max:households_visited"),
        (5, "max:suspected_cases"),
    ]
    assert sorted(_keys(out.warnings, "rule")) == [
        (3, "waived:max:persons_screened"),
        (3, "warn_above:close_contacts"),
    ]


def test_both_errors_waived_row_keeps_its_own_warning_in_the_count(
    received: pd.DataFrame, validated: ValidationResult
) -> None:
    waivers = _waivers((F, 3, "max:persons_screened"), (F, 3, "max:households_visited"))
    out = apply_waivers(validated, received, waivers)

    row = out.accepted[out.accepted["row_number"] == 3].iloc[0]
    assert row["warning_count"] == 3  # its warning + two waived issues
    assert out.accepted["row_number"].tolist() == [3, 4]


def test_ledger_accounting_stays_right(received: pd.DataFrame, validated: ValidationResult) -> None:
    ledger = pd.DataFrame({"file_id": [F, OLD], "rows_received": [4, 1], "status": [None, None]})
    ledger = ledger.reindex(columns=frames.LEDGER_COLUMNS)
    out = apply_waivers(validated, received, _waivers((F, 2, "max:persons_screened")))
    counted = account(ledger, received, out).set_index("file_id")

    assert counted.loc[F, ["rows_accepted", "rows_quarantined", "rows_superseded"]].tolist() == [
        2,
        2,
        0,
    ]
    assert counted.loc[F, "status"] == "partly_quarantined"
    assert counted.loc[OLD, "status"] == "superseded"


def test_waivers_that_match_nothing_change_nothing(
    received: pd.DataFrame, validated: ValidationResult
) -> None:
    stale = _waivers(
        (F, 2, "max:households_visited"),  # not the failed rule
        (F, 4, "max:persons_screened"),  # a clean row
        (OLD, 2, "max:persons_screened"),  # a superseded row (never validated)
    )
    assert apply_waivers(validated, received, stale) is validated


def test_structural_failures_are_never_waived(
    received: pd.DataFrame, validated: ValidationResult
) -> None:
    q = validated.quarantine.copy()
    q.loc[q["row_number"] == 2, "rule"] = "unique_unit_day"  # as if row 2 were a duplicate
    planted = ValidationResult(validated.accepted, q, validated.warnings)
    assert apply_waivers(planted, received, _waivers((F, 2, "unique_unit_day"))) is planted
    assert apply_waivers(validated, received, _waivers()) is validated


def test_day_waivers_reads_the_review_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wh' / 'warehouse.sqlite'}"
    assert day_waivers(url, DAY).empty  # no warehouse yet
    assert not (tmp_path / "wh").exists()  # and reading did not create one
    (tmp_path / "wh").mkdir()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE other (x INTEGER)"))
    assert day_waivers(url, DAY).empty  # warehouse without review tables
    store.ensure_schema(engine)
    with engine.begin() as conn:
        for day, row in ((DAY, 2), (date(2026, 11, 25), 3)):
            conn.execute(
                store.statement("insert_waiver"),
                {
                    "period": day.isoformat(),
                    "file_id": F,
                    "sheet": "Sheet1",
                    "row_number": row,
                    "rule": "max:persons_screened",
                    "username": "steward_a",
                    "at": store.now_utc(),
                    "justification": "ok",
                },
            )
    found = day_waivers(url, DAY)
    # the review app's own reader gives the very same frame (until it uses this one)
    pd.testing.assert_frame_equal(found, store.waivers_for(engine, DAY))
    engine.dispose()
    assert _keys(found, "file_id", "rule", "username") == [
        (2, F, "max:persons_screened", "steward_a")
    ]


# ---- "keep this row": a steward resolves a duplicate ------------------------------------


@pytest.fixture(scope="module")
def duplicated() -> pd.DataFrame:
    """One village twice in one file (rows 2 and 3), and a clean row of another village."""
    return received_frame(
        load_catalogue(),
        [
            {"file_id": F, "unit_code": U[0], "persons_screened": 10},
            {"file_id": F, "unit_code": U[0], "persons_screened": 12},
            {"file_id": F, "unit_code": U[2], "persons_screened": 5},
        ],
    )


def test_kept_row_is_validated_alone_and_the_other_superseded(duplicated: pd.DataFrame) -> None:
    cat, reg = load_catalogue(), load_registry(None, None)
    before = validate_rows(duplicated, DAY, cat, reg)
    assert sorted(_keys(before.quarantine, "rule")) == [(2, KEEP), (3, KEEP)]

    kept = apply_keeps(duplicated, _waivers((F, 3, KEEP)))
    after = validate_rows(kept, DAY, cat, reg)

    assert after.quarantine.empty
    assert after.accepted["row_number"].tolist() == [3, 4]
    assert after.accepted.loc[0, "persons_screened"] == 12  # the kept row's value
    other = kept[kept["row_number"] == 2].iloc[0]
    assert other["disposition"] == "superseded" and other["superseded_by"] == F
    assert "steward_a" in other["superseded_reason"]
    assert "核实无误" in other["superseded_reason"]
    ledger = pd.DataFrame({"file_id": [F], "rows_received": [3], "status": [None]})
    counted = account(ledger.reindex(columns=frames.LEDGER_COLUMNS), kept, after).iloc[0]
    assert counted[["rows_accepted", "rows_quarantined", "rows_superseded"]].tolist() == [2, 0, 1]
    assert duplicated["disposition"].eq("candidate").all()  # the input is not changed


def test_the_newest_keep_of_a_pair_wins(duplicated: pd.DataFrame) -> None:
    waivers = _waivers((F, 2, KEEP), (F, 3, KEEP))
    waivers["at"] = pd.to_datetime(["2026-11-27 09:00", "2026-11-27 08:00"], utc=True)
    kept = apply_keeps(duplicated, waivers)
    assert kept["disposition"].tolist() == ["candidate", "superseded", "candidate"]


def test_keeps_that_match_no_duplicate_change_nothing(duplicated: pd.DataFrame) -> None:
    stale = _waivers(
        (F, 4, KEEP),  # a row without a twin
        (F, 9, KEEP),  # a row that is gone
        (F, 2, "max:persons_screened"),  # not a keep
    )
    assert apply_keeps(duplicated, stale) is duplicated
    assert apply_keeps(duplicated, _waivers()) is duplicated
