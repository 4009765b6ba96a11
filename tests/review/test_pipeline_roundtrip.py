"""Stewards' actions win at the next run: the demo day through the real pipeline, an action
taken in review, the day re-run (in-process, as the DAG's tasks do), and the township,
county and city totals move by exactly what the action changed.

The demo day is run once per module; each test works on its own copy of that state and
re-runs the day once (about 10 s each), so marked e2e.
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from huizong.catalogue import load_catalogue
from huizong.display import CORRECTION_MARK, shown_file_names
from huizong.review import actions, queries, store
from huizong.settings import Settings
from huizong.validate.waivers import is_waivable

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


def _moved_by_the_row(
    before: pd.Series, after: pd.Series, chain: list[str], row: pd.Series
) -> pd.Series:
    """Assert every summed total of ``chain`` moved by exactly ``row``'s value; the diff."""
    diff = (after - before).fillna(0)
    summed = [i.code for i in load_catalogue().numeric if i.across_units == "sum"]
    for code in chain:
        for ind in summed:
            expected = 0 if pd.isna(row[ind]) else int(row[ind])
            assert diff.get((code, ind), 0) == expected, (code, ind)
    return diff


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
    _moved_by_the_row(before, after, chain, row)
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
    for units in files.loc[files["rows_received"] > 0, "units"]:  # no rows: file_units
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


def _ledger_adds_up(engine: sa.Engine) -> pd.Series:
    led = store.read_frame(engine, "select_ledger_period", {"period": DAY.isoformat()})
    parts = led[["rows_accepted", "rows_quarantined", "rows_superseded"]].sum(axis=1)
    assert (led["rows_received"] == parts).all()
    return led[["rows_received", "rows_accepted", "rows_quarantined", "rows_superseded"]].sum()


def test_keep_this_row_publishes_it_and_supersedes_its_twin(
    day_state: tuple[Settings, sa.Engine],
) -> None:
    """The demo day's village twice in one file: keep the second row, re-run; its values
    (and only they) reach the totals, the first row is superseded, the ledger adds up."""
    from huizong.pipeline import run_day

    settings, engine = day_state
    quarantine = queries.issues(engine, DAY, ["1309"], "quarantine")
    dups = quarantine[quarantine["rule"] == "unique_unit_day"]
    assert len(dups) == 2, "the demo day plants one village twice in one file"
    unit = str(dups["unit_code"].iloc[0])
    kept = dups.sort_values("row_number").iloc[1]
    other = dups.sort_values("row_number").iloc[0]
    assert unit not in _report_units(engine)
    chain = [unit[:9], unit[:6], unit[:4]]
    before = _totals(engine, chain)
    counts_before = _ledger_adds_up(engine)
    received = pd.read_parquet(settings.run_dir(DAY) / "received.parquet")
    row = received[
        (received["file_id"] == kept["file_id"])
        & (received["row_number"] == int(kept["row_number"]))
    ].iloc[0]

    _act_as_steward(actions.keep, settings, engine, kept, justification="第二行是更正后的")
    run_day(DAY, settings)
    after = _totals(engine, chain)

    assert unit in _report_units(engine)
    with engine.connect() as conn:
        published = conn.execute(
            sa.text("SELECT file_id, row_number FROM report WHERE period = :p AND unit_code = :u"),
            {"p": DAY.isoformat(), "u": unit},
        ).fetchall()
    assert [(str(f), int(n)) for f, n in published] == [
        (str(kept["file_id"]), int(kept["row_number"]))
    ]
    diff = _moved_by_the_row(before, after, chain, row)
    summed = [i.code for i in load_catalogue().numeric if i.across_units == "sum"]
    others = diff.drop(index=[(c, i) for c in chain for i in summed], errors="ignore")
    assert (others[others.index.get_level_values(1).isin(summed)] == 0).all()
    left = queries.issues(engine, DAY, [unit[:6]], "quarantine")
    assert not (left["rule"] == "unique_unit_day").any()
    counts_after = _ledger_adds_up(engine)
    assert counts_after["rows_received"] == counts_before["rows_received"]
    assert counts_after["rows_accepted"] == counts_before["rows_accepted"] + 1
    assert counts_after["rows_quarantined"] == counts_before["rows_quarantined"] - 2
    assert counts_after["rows_superseded"] == counts_before["rows_superseded"] + 1
    audit = store.actions_for(engine, DAY)
    assert audit[["action", "unit_code", "username"]].values.tolist() == [["keep", unit, "steward"]]
    assert f"#{int(other['row_number'])}" in audit["old_value"].iloc[0]


def test_an_accepted_value_is_not_an_open_warning_after_the_rerun(
    day_state: tuple[Settings, sa.Engine],
) -> None:
    """Accept a quarantined value, re-run through run_day (what the DAG's tasks call): the
    value is in the totals and no warning about that row is open for the steward again."""
    from huizong.pipeline import run_day

    settings, engine = day_state
    quarantine = queries.issues(engine, DAY, ["1309"], "quarantine")
    per_row = quarantine.groupby(["file_id", "sheet", "row_number"])["rule"].transform("size")
    single = quarantine[(per_row == 1) & quarantine["rule"].map(is_waivable)]
    issue = single.iloc[0]
    unit, rule, column = str(issue["unit_code"]), str(issue["rule"]), str(issue["column"])
    key = (str(issue["file_id"]), str(issue["sheet"]), int(issue["row_number"]))
    _act_as_steward(actions.accept, settings, engine, issue, rule=rule, justification="核实无误")
    run_day(DAY, settings)

    warnings = queries.issues(engine, DAY, [unit[:6]], "warning")
    mine = warnings[
        (warnings["file_id"] == key[0])
        & (warnings["sheet"] == key[1])
        & (warnings["row_number"] == key[2])
    ]
    assert len(mine), "the waived issue stays visible as a warning"
    assert (mine["status"] != "open").all(), mine[["rule", "status"]].values.tolist()
    assert unit in _report_units(engine)
    value = _totals(engine, [unit[:9]]).get((unit[:9], column))
    assert value is not None and not pd.isna(value)


def test_a_duplicate_file_is_listed_for_its_county(
    day_state: tuple[Settings, sa.Engine],
) -> None:
    """A duplicate file has no rows of its own: it was listed for no steward (a trial found).
    It is scoped by the file it duplicates."""
    _settings, engine = day_state
    led = store.read_frame(engine, "select_ledger_period", {"period": DAY.isoformat()})
    dup = led[led["status"] == "duplicate"].iloc[0]
    original = led.set_index("file_id").loc[dup["duplicate_of"], "units"]
    county = original.split(",")[0][:6]
    assert dup["file_id"] in set(queries.ledger(engine, DAY, [county])["file_id"])
    assert dup["file_id"] in set(queries.ledger(engine, DAY, ["1309"])["file_id"])
    other = next(c for c in ("130921", "130922", "130981") if c != county)
    assert dup["file_id"] not in set(queries.ledger(engine, DAY, [other])["file_id"])


def test_the_change_report_names_the_steward_who_accepted_the_row(
    day_state: tuple[Settings, sa.Engine],
) -> None:
    """A trial found the change report blaming an inbox file for a row a steward accepted
    (放行): the cause of every changed total above the unit names the steward's action,
    who and when, and the row; the 更正说明 sheet's source says the same."""
    from huizong.pipeline import run_day
    from huizong.publish.warehouse import read_changes

    settings, engine = day_state
    quarantine = queries.issues(engine, DAY, ["1309"], "quarantine")
    per_row = quarantine.groupby(["file_id", "sheet", "row_number"])["rule"].transform("size")
    issue = quarantine[(per_row == 1) & quarantine["rule"].map(is_waivable)].iloc[0]
    unit, rule = str(issue["unit_code"]), str(issue["rule"])
    done = _act_as_steward(actions.accept, settings, engine, issue, rule=rule, justification="核实")
    run_day(DAY, settings, trigger="correction")

    changes = read_changes(settings.warehouse, DAY, 2)
    mine = changes[changes["unit_code"].isin([unit[:9], unit[:6], unit[:4]])]
    assert len(mine) and set(mine["unit_code"]) == {unit[:9], unit[:6], unit[:4]}
    row = int(issue["row_number"])
    from huizong.display import local_time

    for cause in mine["cause"]:
        assert f"：{issue['unit_name']}" in cause  # the accepted village, by name
        assert "管理员放行 / steward accepted" in cause
        assert "steward" in cause and local_time(done["at"]) in cause
        assert f"第{row}行 row {row}" in cause and str(issue["file_name"]) in cause
        assert "收件箱文件" not in cause and "inbox file" not in cause


def _timeliness(engine: sa.Engine, codes: list[str]) -> dict[str, tuple[int, int]]:
    done = store.read_frame(engine, "select_completeness_period", {"period": DAY.isoformat()})
    done = done[done["unit_code"].isin(codes)]
    return {
        str(r["unit_code"]): (int(r["on_time_units"]), int(r["late_units"]))
        for _, r in done.iterrows()
    }


def _received_at(engine: sa.Engine, unit: str) -> pd.Timestamp:
    """When the unit's published report counts as received (UTC)."""
    report = store.read_frame(
        engine, "select_report_unit", {"period": DAY.isoformat(), "unit_code": unit}
    )
    at = pd.Timestamp(str(report.iloc[0]["received_at"]))
    return at if at.tzinfo else at.tz_localize("UTC")


def test_a_stewards_correction_never_makes_an_on_time_village_late(
    day_state: tuple[Settings, sa.Engine],
) -> None:
    """A trial found a village that reported on time counted late after a steward corrected
    one of its values (the correction was timed when the re-run read it). The unit's 及时
    comes from its own submission; the correction file is the steward's, timed when the
    steward acted, and ordered after the original it revises."""
    from huizong.intake.config import load_sources
    from huizong.intake.deadlines import deadline_of
    from huizong.pipeline import run_day

    settings, engine = day_state
    warnings = queries.issues(engine, DAY, ["1309"], "warning")
    village = warnings["unit_code"].astype("str").str.fullmatch(r"\d{12}")
    candidates = warnings[warnings["rule"].str.startswith("warn_above:") & village]
    # before the earliest level deadline (a village's own file): on time under every level
    deadline = pd.Timestamp(deadline_of(DAY, "village", load_sources(settings.sources)))
    on_time = [
        i for _, i in candidates.iterrows() if _received_at(engine, str(i["unit_code"])) <= deadline
    ]
    assert on_time, "the demo day plants a too-high value in a village that reported on time"
    issue = on_time[0]
    unit = str(issue["unit_code"])
    chain = [unit[:9], unit[:6], unit[:4]]
    before = _timeliness(engine, chain)
    assert set(before) == set(chain)
    original_at = _received_at(engine, unit)

    done = _act_as_steward(
        actions.correct,
        settings,
        engine,
        issue,
        column=str(issue["column"]),
        new_value=str(int(issue["value"]) // 10),
        justification="多打了一位",
    )
    run_day(DAY, settings, trigger="correction")

    assert _timeliness(engine, chain) == before
    report = store.read_frame(
        engine, "select_report_unit", {"period": DAY.isoformat(), "unit_code": unit}
    )
    assert str(report.iloc[0]["file_name"]).endswith(".csv")  # the correction is published
    assert _received_at(engine, unit) == original_at
    led = store.read_frame(engine, "select_ledger_period", {"period": DAY.isoformat()})
    mine = led[led["source"].astype("str") == f"_corrections/{Path(done['file']).name}"]
    assert mine[["channel", "sender"]].values.tolist() == [["review", "steward"]]
    acted = pd.Timestamp(str(done["at"]))
    acted = acted if acted.tzinfo else acted.tz_localize("UTC")
    filed = pd.Timestamp(str(mine["received_at"].iloc[0]))
    filed = filed if filed.tzinfo else filed.tz_localize("UTC")
    assert filed == acted  # the steward's action, not the moment the re-run read it


def test_a_correction_file_reads_as_the_file_it_revises(
    day_state: tuple[Settings, sa.Engine], airflow_token: Callable[[str], str]
) -> None:
    """The stewards' files table showed a correction as its store name
    (``130…-20200128T…Z.csv``); it reads as the reporter's file it revises, marked as a
    correction, with the store name kept only where two corrections of one file would
    otherwise read the same."""
    from huizong.pipeline import run_day

    settings, engine = day_state
    warnings = queries.issues(engine, DAY, ["1309"], "warning")
    village = warnings["unit_code"].astype("str").str.fullmatch(r"\d{12}")
    issue = warnings[warnings["rule"].str.startswith("warn_above:") & village].iloc[0]
    done = [
        _act_as_steward(
            actions.correct,
            settings,
            engine,
            issue,
            column=str(issue["column"]),
            new_value=str(int(issue["value"]) // k),
            justification="多打了一位",
        )
        for k in (10, 1)  # the second keeps the value: its row warns again
    ]
    run_day(DAY, settings, trigger="correction")

    led = store.read_frame(engine, "select_ledger_period", {"period": DAY.isoformat()})
    shown = shown_file_names(led, store.actions_for(engine, DAY))
    original = led.loc[led["file_id"] == issue["file_id"], "file_name"].iloc[0]
    stored = [Path(d["file"]).name for d in done]
    mine = led["source"].astype("str").isin([f"_corrections/{n}" for n in stored])
    assert sorted(shown[mine]) == sorted(
        f"{original}{CORRECTION_MARK}（{n}）" for n in stored
    )  # two corrections of one file: told apart by their store names
    others = ~mine & (led["channel"] != "review")
    assert (shown[others] == led.loc[others, "file_name"]).all()  # what the reporter sent

    from fastapi.testclient import TestClient

    from huizong.review.airflow_api import InMemoryAirflow
    from huizong.review.app import create_app

    store.assign_scope(engine, "steward_a", ["1309"])  # a user the auth manager knows
    app = create_app(settings, engine=engine, airflow=InMemoryAirflow())
    with TestClient(app) as client:
        page = client.get(
            f"/runs/{DAY.isoformat()}",
            headers={"Authorization": f"Bearer {airflow_token('steward_a')}"},
        ).text
    table = html.unescape(page.split("<h2>文件 Files</h2>")[1])
    for name in stored:  # on the page as on the ledger's reading: original, mark, store name
        assert f"{original}{CORRECTION_MARK}（{name}）" in table
    warned = html.unescape(page.split("<h2>警告 Warnings</h2>")[1].split("<h2>")[0])
    assert f"{original}{CORRECTION_MARK}（{stored[1]}） #" in warned  # its row too
    assert stored[1] not in warned.replace(f"（{stored[1]}）", "")  # never the bare store name


def test_a_quarantined_correction_reads_as_its_file_in_the_workbooks(
    day_state: tuple[Settings, sa.Engine],
) -> None:
    """A correction whose row fails again was listed on the 隔离区 sheets (the night's
    workbook and a downloaded one) by its store name ``<unit>-<UTC>.csv``, a file no clerk
    sent; it reads as on the review pages: the reporter's file name, marked 审核更正."""
    import openpyxl

    from huizong.periods import period_of
    from huizong.pipeline import registry_for, run_day
    from huizong.publish import unit_report
    from huizong.publish.workbook import QUARANTINE_SHEET

    settings, engine = day_state
    quarantined = queries.issues(engine, DAY, ["1309"], "quarantine")
    numeric = {i.code for i in load_catalogue().numeric}
    village = quarantined["unit_code"].astype("str").str.fullmatch(r"\d{12}")
    issue = quarantined[village & quarantined["column"].isin(numeric)].iloc[0]
    done = _act_as_steward(
        actions.correct,
        settings,
        engine,
        issue,
        column=str(issue["column"]),
        new_value="-1",  # a negative count: the corrected row is quarantined again
        justification="核对后仍有误",
    )
    summary = run_day(DAY, settings, trigger="correction")

    stored = Path(done["file"]).name
    led = store.read_frame(engine, "select_ledger_period", {"period": DAY.isoformat()})
    original = led.loc[led["file_id"] == issue["file_id"], "file_name"].iloc[0]
    correction = led.loc[led["source"].astype("str") == f"_corrections/{stored}", "file_id"]
    again = queries.issues(engine, DAY, ["1309"], "quarantine")
    assert (again["file_id"] == correction.iloc[0]).any()  # the correction's row is held

    night = openpyxl.load_workbook(summary["workbook"]["workbook"], read_only=True)
    names = [str(r[0]) for r in night[QUARANTINE_SHEET].iter_rows(values_only=True) if r[0]]
    assert f"{original}{CORRECTION_MARK}" in names
    assert not any(stored in n for n in names)
    styled = openpyxl.load_workbook(summary["workbook"]["workbook"])[QUARANTINE_SHEET]
    cell = next(c for c in styled["A"] if c.value == f"{original}{CORRECTION_MARK}")
    assert cell.alignment.wrap_text  # printed whole, not cut off by the next column

    county = str(issue["unit_code"])[:6]
    tables = unit_report.load_unit_tables(
        settings.warehouse, county, period_of(DAY, "day"), registry_for(settings), load_catalogue()
    )
    held = tables.quarantine[tables.quarantine["file_id"] == correction.iloc[0]]
    assert len(held) and (held["file_name"] == f"{original}{CORRECTION_MARK}").all()
    kept = tables.quarantine["file_id"] != correction.iloc[0]
    by_id = dict(zip(led["file_id"], led["file_name"], strict=True))
    assert (
        tables.quarantine.loc[kept, "file_name"]
        == tables.quarantine.loc[kept, "file_id"].map(by_id)
    ).all()
