"""Actions: scope first, exactly one audit row each (old and new value), corrections as files."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from huizong.ingest import read_submission
from huizong.review import actions, queries, store
from huizong.review.scopes import ScopeError

from .conftest import PERIOD, Row, Warehouse


def _key(row: Row) -> dict[str, object]:
    return {"period": PERIOD, "file_id": row.file_id, "sheet": row.sheet, "row_number": 2}


def _read_back(path, wh: Warehouse) -> pd.Series:
    """Read a correction with the real ingest reader, as the next run will."""
    content = path.read_bytes()
    rows = read_submission(
        path,
        wh.catalogue,
        file_id=hashlib.sha256(content).hexdigest(),
        file_name=path.name,
        received_at=pd.Timestamp.now(tz="UTC"),
    ).rows
    assert len(rows) == 1
    return rows.iloc[0]


def test_accept_writes_waiver_and_one_audit_row(warehouse: Warehouse) -> None:
    wh = warehouse
    got = actions.accept(
        wh.engine,
        wh.settings,
        username="steward_a",
        rule="max:persons_screened",
        justification="电话核实：当日全员筛查",
        **_key(wh.a_error),
    )
    audit = wh.actions()
    assert len(audit) == 1
    rec = audit.iloc[0]
    assert rec["id"] == got["id"]
    assert (rec["action"], rec["username"], rec["unit_code"]) == (
        "accept",
        "steward_a",
        wh.a_error.unit_code,
    )
    assert rec["old_value"] == rec["new_value"] == "250000"
    assert rec["column"] == "persons_screened" and rec["rule"] == "max:persons_screened"
    assert rec["justification"] == "电话核实：当日全员筛查"
    assert pd.Timestamp(rec["at"]).tz is not None or "+00:00" in str(rec["at"])
    waivers = store.waivers_for(wh.engine, PERIOD)
    assert waivers[["file_id", "sheet", "row_number", "rule", "username"]].values.tolist() == [
        [wh.a_error.file_id, "", 2, "max:persons_screened", "steward_a"]
    ]
    status = queries.issues(wh.engine, PERIOD, ["130903"], "quarantine")
    assert status["status"].tolist() == ["accepted"]


@pytest.mark.parametrize("why", ["", "   "])
def test_accept_requires_justification(warehouse: Warehouse, why: str) -> None:
    wh = warehouse
    with pytest.raises(actions.ActionError):
        actions.accept(
            wh.engine,
            wh.settings,
            username="steward_a",
            rule="max:persons_screened",
            justification=why,
            **_key(wh.a_error),
        )
    assert wh.actions().empty and store.waivers_for(wh.engine, PERIOD).empty


def test_every_action_checks_scope_and_writes_nothing_outside(warehouse: Warehouse) -> None:
    wh = warehouse
    calls = [
        lambda: actions.accept(
            wh.engine,
            wh.settings,
            username="steward_a",
            rule="max:persons_screened",
            justification="x",
            **_key(wh.b_error),
        ),
        lambda: actions.correct(
            wh.engine,
            wh.settings,
            username="steward_a",
            column="persons_screened",
            new_value="3000",
            justification="x",
            **_key(wh.b_error),
        ),
        lambda: actions.reject(
            wh.engine, wh.settings, username="steward_a", justification="x", **_key(wh.b_error)
        ),
        lambda: actions.mark_reviewed(
            wh.engine,
            wh.settings,
            username="steward_a",
            rule="warn_above:households_visited",
            **_key(wh.b_warning),
        ),
        # a user with no assignment may do nothing at all
        lambda: actions.reject(
            wh.engine, wh.settings, username="nobody", justification="x", **_key(wh.a_error)
        ),
    ]
    for call in calls:
        with pytest.raises(ScopeError):
            call()
    assert wh.actions().empty
    assert store.waivers_for(wh.engine, PERIOD).empty
    assert not (wh.settings.inbox_for(date.fromisoformat(PERIOD)) / "_corrections").exists()


def test_unknown_row_or_rule_is_not_found(warehouse: Warehouse) -> None:
    wh = warehouse
    with pytest.raises(actions.NotFound):
        actions.mark_reviewed(
            wh.engine,
            wh.settings,
            username="steward_a",
            rule="max:persons_screened",  # an error, not a warning
            **_key(wh.a_error),
        )
    with pytest.raises(actions.NotFound):
        actions.reject(
            wh.engine,
            wh.settings,
            username="steward_a",
            justification="x",
            **{**_key(wh.a_error), "row_number": 99},
        )
    assert wh.actions().empty


def test_reject_and_mark_reviewed_one_row_each(warehouse: Warehouse) -> None:
    wh = warehouse
    actions.reject(
        wh.engine,
        wh.settings,
        username="steward_a",
        justification="数字明显有误，请重报",
        **_key(wh.a_error),
    )
    actions.mark_reviewed(
        wh.engine,
        wh.settings,
        username="steward_a",
        rule="warn_above:households_visited",
        **_key(wh.a_warning),
    )
    audit = wh.actions()
    assert audit["action"].tolist() == ["reject", "mark_reviewed"]
    rej, rev = audit.iloc[0], audit.iloc[1]
    assert rej["new_value"] == "resubmission requested" and pd.isna(rej["old_value"])
    assert rej["justification"] == "数字明显有误，请重报"
    assert rev["old_value"] == rev["new_value"] == "6000"
    assert rev["unit_code"] == "130903D01"
    assert queries.issues(wh.engine, PERIOD, ["130903"], "quarantine")["status"].tolist() == [
        "rejected"
    ]
    assert queries.issues(wh.engine, PERIOD, ["130903"], "warning")["status"].tolist() == [
        "reviewed"
    ]
    # B's issues are untouched and invisible to A
    assert queries.issues(wh.engine, PERIOD, ["130902"], "warning")["status"].tolist() == ["open"]


def test_correct_writes_a_new_revision_and_one_audit_row(warehouse: Warehouse) -> None:
    wh = warehouse
    original = wh.settings.store_dir / f"{wh.a_error.file_id}.csv"
    before = original.read_bytes()
    got = actions.correct(
        wh.engine,
        wh.settings,
        username="steward_a",
        column="persons_screened",
        new_value="2500",
        justification="多打了两个零",
        **_key(wh.a_error),
    )
    assert original.read_bytes() == before  # the original is never edited
    folder = wh.settings.inbox_for(date.fromisoformat(PERIOD)) / "_corrections"
    files = sorted(folder.iterdir())
    assert [p.name for p in files] == [got["file"].rsplit("/", 1)[-1]]
    assert files[0].name.startswith(f"{wh.a_error.unit_code}-") and files[0].suffix == ".csv"

    with files[0].open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert set(header) == {"unit_code", "unit_name", "period", *wh.catalogue.codes}

    corrected = _read_back(files[0], wh)
    source = wh.a_error.values
    assert corrected["unit_code"] == wh.a_error.unit_code
    assert corrected["period"] == PERIOD
    assert corrected["persons_screened"] == 2500
    for ind in wh.catalogue.numeric:
        if ind.code != "persons_screened":
            assert corrected[ind.code] == int(source[ind.code]), ind.code
    assert corrected["problems"] == source["problems"]

    audit = wh.actions()
    assert len(audit) == 1
    rec = audit.iloc[0]
    assert (rec["action"], rec["column"], rec["old_value"], rec["new_value"]) == (
        "correct",
        "persons_screened",
        "250000",
        "2500",
    )
    assert rec["justification"] == "多打了两个零"


def test_second_correction_builds_on_the_first(warehouse: Warehouse) -> None:
    wh = warehouse
    kw = {"username": "steward_a", "justification": "核实 checked", **_key(wh.a_error)}
    actions.correct(wh.engine, wh.settings, column="persons_screened", new_value="2500", **kw)
    actions.correct(wh.engine, wh.settings, column="households_visited", new_value="17", **kw)
    folder = wh.settings.inbox_for(date.fromisoformat(PERIOD)) / "_corrections"
    files = sorted(folder.glob("*.csv"))
    assert len(files) == 2
    latest = _read_back(files[-1], wh)
    assert (latest["persons_screened"], latest["households_visited"]) == (2500, 17)
    audit = wh.actions()
    assert audit["old_value"].tolist() == ["250000", wh.a_error.values["households_visited"]]


def test_correct_without_original_is_refused(warehouse: Warehouse) -> None:
    wh = warehouse
    (wh.settings.store_dir / f"{wh.a_error.file_id}.csv").unlink()
    with pytest.raises(actions.OriginalUnavailable):
        actions.correct(
            wh.engine,
            wh.settings,
            username="steward_a",
            column="persons_screened",
            new_value="1",
            justification="x",
            **_key(wh.a_error),
        )
    assert wh.actions().empty


def test_correct_rejects_unknown_column(warehouse: Warehouse) -> None:
    wh = warehouse
    with pytest.raises(actions.ActionError):
        actions.correct(
            wh.engine,
            wh.settings,
            username="steward_a",
            column="file_id",
            new_value="x",
            justification="x",
            **_key(wh.a_error),
        )
    assert wh.actions().empty


def test_correct_falls_back_to_the_report_table(warehouse: Warehouse) -> None:
    """An accepted row with a warning whose stored file is gone: the report row is the base."""
    wh = warehouse
    row = wh.a_warning
    report = {
        "period": PERIOD,
        "unit_code": row.unit_code,
        "unit_name": row.unit_name,
        "file_id": row.file_id,
        "file_name": row.file_name,
        "sheet": "",
        "row_number": 2,
        "not_applicable": "returnees_new",
        "coercions": "[]",
        **{c: row.values[c] for c in wh.catalogue.codes},
    }
    pd.DataFrame([report]).to_sql("report", wh.engine, index=False, if_exists="replace")
    (wh.settings.store_dir / f"{row.file_id}.csv").unlink()
    got = actions.correct(
        wh.engine,
        wh.settings,
        username="steward_a",
        column="households_visited",
        new_value="600",
        justification="核实 checked",
        **_key(row),
    )
    corrected = _read_back(Path(got["file"]), wh)
    assert corrected["households_visited"] == 600
    assert corrected["unit_code"] == row.unit_code
    assert pd.isna(corrected["returnees_new"])  # 不适用 carried over, not a zero
    assert "returnees_new" in corrected["not_applicable"].split(",")
    assert corrected["persons_screened"] == int(row.values["persons_screened"])


@pytest.mark.parametrize(
    ("rule", "column", "value"),
    [
        ("unit_known", "unit_code", None),  # structural: the roll-up cannot place the row
        ("min:masks_in_stock", "masks_in_stock", "-40"),  # a negative stock (a trial)
        ("cell_parse", "masks_in_stock", "四十"),  # not a number
    ],
)
def test_hard_failure_cannot_be_accepted(
    warehouse: Warehouse, rule: str, column: str, value: str | None
) -> None:
    """An unknown unit, a negative stock, a cell that is not a number: no steward can
    vouch for them (one rule, ``is_waivable``); correct or reject instead."""
    wh = warehouse
    issue = {
        "period": date.fromisoformat(PERIOD),
        "file_id": wh.a_error.file_id,
        "file_name": wh.a_error.file_name,
        "sheet": wh.a_error.sheet,
        "row_number": wh.a_error.row_number,
        "unit_code": wh.a_error.unit_code,
        "unit_name": wh.a_error.unit_name,
        "column": column,
        "value": value or wh.a_error.unit_code,
        "rule": rule,
        "severity": "error",
        "message_zh": f"未通过检查：{rule}",
        "message_en": f"failed check: {rule}",
    }
    pd.DataFrame([issue]).to_sql("quarantine", wh.engine, index=False, if_exists="append")
    with pytest.raises(actions.ActionError, match=rule):
        actions.accept(
            wh.engine,
            wh.settings,
            username="steward_a",
            rule=rule,
            justification="确认",
            **_key(wh.a_error),
        )
    assert wh.actions().empty
    assert store.waivers_for(wh.engine, PERIOD).empty
