"""account(): per-file row counts, status, and the no-row-lost invariant (no GX needed)."""

from __future__ import annotations

import pandas as pd
import pytest

from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.validate import AccountingError, ValidationResult, account
from huizong.validate.rows import empty_issues
from huizong.validate.sample import received_frame

A, B = "a" * 64, "b" * 64


@pytest.fixture(scope="module")
def received() -> pd.DataFrame:
    cat = load_catalogue()
    return received_frame(
        cat,
        [
            {"file_id": A, "row_number": 2},
            {"file_id": A, "row_number": 3},
            {"file_id": A, "row_number": 4},
            {"file_id": B, "row_number": 2, "disposition": "superseded"},
        ],
    )


def _ledger(counts: dict[str, int], status: dict[str, str] | None = None) -> pd.DataFrame:
    ledger = pd.DataFrame({"file_id": list(counts), "rows_received": list(counts.values())})
    ledger["status"] = [(status or {}).get(f) for f in counts]
    return ledger.reindex(columns=frames.LEDGER_COLUMNS)


def _result(received: pd.DataFrame, accepted_rows: list[int], issues: list[tuple[int, str]]):
    a = received[received["file_id"] == A]
    accepted = a[a["row_number"].isin(accepted_rows)].assign(warning_count=0)
    q = empty_issues()
    q = (
        pd.concat(
            [
                q,
                pd.DataFrame(
                    [
                        {
                            "file_id": A,
                            "sheet": "Sheet1",
                            "row_number": r,
                            "rule": rule,
                            "severity": "error",
                        }
                        for r, rule in issues
                    ]
                ),
            ],
            ignore_index=True,
        )
        if issues
        else q
    )
    return ValidationResult(accepted=accepted, quarantine=q, warnings=empty_issues())


def test_counts_distinct_quarantined_rows_and_sets_status(received):
    # row 3 fails two rules: one quarantined row, not two
    result = _result(received, [2, 4], [(3, "min:x"), (3, "max:y")])
    out = account(_ledger({A: 3, B: 1}), received, result).set_index("file_id")
    assert out.loc[A, ["rows_accepted", "rows_quarantined", "rows_superseded"]].tolist() == [
        2,
        1,
        0,
    ]
    assert out.loc[A, "status"] == "partly_quarantined"
    assert out.loc[B, ["rows_accepted", "rows_superseded", "status"]].tolist() == [
        0,
        1,
        "superseded",
    ]


def test_all_accepted_and_all_quarantined(received):
    out = account(_ledger({A: 3, B: 1}), received, _result(received, [2, 3, 4], []))
    assert out.set_index("file_id").loc[A, "status"] == "accepted"
    out = account(
        _ledger({A: 3, B: 1}), received, _result(received, [], [(2, "r"), (3, "r"), (4, "r")])
    )
    assert out.set_index("file_id").loc[A, "status"] == "quarantined"


def test_duplicate_and_rejected_keep_their_status(received):
    ledger = _ledger(
        {A: 3, B: 1, "d" * 64: 0, "e" * 64: 0}, {"d" * 64: "duplicate", "e" * 64: "rejected"}
    )
    out = account(ledger, received, _result(received, [2, 3, 4], [])).set_index("file_id")
    assert out.loc["d" * 64, "status"] == "duplicate"
    assert out.loc["e" * 64, "status"] == "rejected"


def test_a_lost_row_breaks_the_invariant(received):
    with pytest.raises(AccountingError, match="rows_received 3"):
        account(_ledger({A: 3, B: 1}), received, _result(received, [2, 4], []))


def test_a_row_both_accepted_and_quarantined_is_refused(received):
    with pytest.raises(AccountingError, match="both"):
        account(_ledger({A: 3, B: 1}), received, _result(received, [2, 3, 4], [(3, "min:x")]))


def test_ledger_count_must_match_received(received):
    with pytest.raises(AccountingError):
        account(_ledger({A: 4, B: 1}), received, _result(received, [2, 3, 4], []))
    with pytest.raises(AccountingError, match="missing in the ledger"):
        account(_ledger({A: 3}), received, _result(received, [2, 3, 4], []))
