"""Stewards' actions win at the next run: the demo day through the real pipeline, an action
taken in review, the day re-run (in-process, as the DAG's tasks do), and the township,
county and city totals move by exactly what the action changed.

The demo day is run once per module; each test works on its own copy of that state and
re-runs the day once (about 10 s each), so marked e2e.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from huizong.catalogue import load_catalogue
from huizong.review import actions, queries, store
from huizong.settings import Settings

pytestmark = pytest.mark.e2e

DAY = date(2020, 1, 28)


def _totals(engine: sa.Engine, codes: list[str]) -> pd.Series:
    with engine.connect() as conn:
        frame = pd.read_sql(
            sa.text("SELECT unit_code, indicator, value FROM consolidated WHERE period = :p"),
            conn,
            params={"p": DAY.isoformat()},
        )
    frame = frame[frame["unit_code"].isin(codes)]
    return frame.set_index(["unit_code", "indicator"])["value"].sort_index()


def _report_units(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT unit_code FROM report WHERE period = :p"), {"p": DAY.isoformat()}
        )
        return {str(r[0]) for r in found}


def _act_as_steward(
    action: Callable[..., dict[str, Any]],
    settings: Settings,
    engine: sa.Engine,
    issue: pd.Series,
    **fields: Any,
) -> dict[str, Any]:
    """Take ``action`` on the issue's row as a steward assigned the row's county."""
    store.assign_scope(engine, "steward", [str(issue["unit_code"])[:6]])
    return action(
        engine,
        settings,
        username="steward",
        period=DAY,
        file_id=str(issue["file_id"]),
        sheet=str(issue["sheet"]),
        row_number=int(issue["row_number"]),
        **fields,
    )


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo day generated and run once: inbox, run files, store and warehouse."""
    from huizong.demo import generate_demo_day
    from huizong.pipeline import run_day

    base = tmp_path_factory.mktemp("roundtrip")
    settings = Settings(home=base / "var", inbox_root=base / "inbox")
    generate_demo_day(DAY, settings.inbox_for(DAY))
    run_day(DAY, settings)
    return base


@pytest.fixture
def day_state(baseline: Path, tmp_path: Path) -> tuple[Settings, sa.Engine]:
    for name in ("var", "inbox"):
        shutil.copytree(baseline / name, tmp_path / name)
    settings = Settings(home=tmp_path / "var", inbox_root=tmp_path / "inbox")
    engine = sa.create_engine(settings.warehouse)
    store.ensure_schema(engine)
    yield settings, engine
    engine.dispose()


def test_correction_changes_totals_by_exactly_the_difference(
    day_state: tuple[Settings, sa.Engine],
) -> None:
    from huizong.pipeline import run_day

    settings, engine = day_state
    warnings = queries.issues(engine, DAY, ["1309"], "warning")
    village = warnings["unit_code"].astype("str").str.fullmatch(r"\d{12}")
    numeric = warnings[warnings["rule"].str.startswith("warn_above:") & village]
    assert len(numeric), "the demo day plants at least one unusually high value"
    issue = numeric.iloc[0]
    unit, column, old = str(issue["unit_code"]), str(issue["column"]), int(issue["value"])
    new = old // 10
    chain = [unit[:9], unit[:6], unit[:4]]  # township, county, city
    before = _totals(engine, chain)

    county = unit[:6]
    _act_as_steward(
        actions.correct,
        settings,
        engine,
        issue,
        column=column,
        new_value=str(new),
        justification="多打了一位",
    )
    run_day(DAY, settings)  # the re-run
    after = _totals(engine, chain)

    diff = (after - before).fillna(0)
    for code in chain:
        assert diff[(code, column)] == new - old, code
    others = diff.drop(index=[(c, column) for c in chain])
    assert (others == 0).all(), others[others != 0]

    # the original file is superseded, its warning gone; the audit row stays
    left = queries.issues(engine, DAY, [county], "warning")
    assert not ((left["unit_code"] == unit) & (left["column"] == column)).any()
    audit = store.actions_for(engine, DAY)
    assert audit[["action", "unit_code", "old_value", "new_value"]].values.tolist() == [
        ["correct", unit, str(old), str(new)]
    ]


def test_accepted_value_brings_the_row_into_report_and_totals(
    day_state: tuple[Settings, sa.Engine],
) -> None:
    """accept → waiver; the re-run's validation honours it: the row is published."""
    from huizong.pipeline import run_day

    settings, engine = day_state
    quarantine = queries.issues(engine, DAY, ["1309"], "quarantine")
    per_row = quarantine.groupby(["file_id", "sheet", "row_number"])["rule"].transform("size")
    single = quarantine[(per_row == 1) & quarantine["rule"].str.startswith("rule:")]
    assert len(single), "the demo day plants a row failing one cross-field rule"
    issue = single.iloc[0]
    unit, rule = str(issue["unit_code"]), str(issue["rule"])
    assert unit not in _report_units(engine)
    chain = [unit[:9], unit[:6], unit[:4]]
    before = _totals(engine, chain)
    received = pd.read_parquet(settings.run_dir(DAY) / "received.parquet")
    row = received[
        (received["file_id"] == issue["file_id"])
        & (received["row_number"] == int(issue["row_number"]))
    ].iloc[0]

    _act_as_steward(
        actions.accept,
        settings,
        engine,
        issue,
        rule=rule,
        justification="电话核实：返乡人数统计口径不同，数据无误",
    )
    summary = run_day(DAY, settings)
    after = _totals(engine, chain)

    assert summary["validate"]["waived"] == 1
    assert unit in _report_units(engine)
    diff = (after - before).fillna(0)
    summed = [i.code for i in load_catalogue().numeric if i.across_units == "sum"]
    for code in chain:
        for ind in summed:
            expected = 0 if pd.isna(row[ind]) else int(row[ind])
            assert diff.get((code, ind), 0) == expected, (code, ind)
    left = queries.issues(engine, DAY, [unit[:6]], "quarantine")
    assert not (left["unit_code"] == unit).any()
    trail = queries.issues(engine, DAY, [unit[:6]], "warning")
    trail = trail[trail["rule"] == f"waived:{rule}"]
    assert trail["unit_code"].tolist() == [unit]
    assert "电话核实" in trail["message_zh"].iloc[0]
    audit = store.actions_for(engine, DAY)
    assert audit[["action", "unit_code", "rule", "username"]].values.tolist() == [
        ["accept", unit, rule, "steward"]
    ]


def test_stewards_see_their_files_and_the_city_its_data_docs(
    day_state: tuple[Settings, sa.Engine],
) -> None:
    """Defect 1: the ledger's ``units`` are the file's unit codes, as review scopes on them
    (they were a count: every steward saw no file and Data Docs answered 403)."""
    settings, engine = day_state
    received = pd.read_parquet(settings.run_dir(DAY) / "received.parquet")
    villages = received["unit_code"].dropna().astype("str")
    county = villages[villages.str.fullmatch(r"\d{12}")].iloc[0][:6]
    theirs = set(received.loc[received["unit_code"].str.startswith(county, na=False), "file_id"])
    files = queries.ledger(engine, DAY, [county])
    assert theirs and theirs <= set(files["file_id"])
    for units in files["units"]:
        assert any(u.startswith(county) for u in units.split(","))
    everything = queries.ledger(engine, DAY, ["1309"])
    led = store.read_frame(engine, "select_ledger_period", {"period": DAY.isoformat()})
    with_rows = led[led["rows_received"] > 0]
    assert set(with_rows["file_id"]) <= set(everything["file_id"])
    assert queries.period_in_scope(engine, DAY, ["1309"])
    assert not queries.period_in_scope(engine, DAY, [county])
    assert [r["files"] for r in queries.runs(engine, [county]).to_dict("records")] == [
        files["file_id"].nunique()
    ]
