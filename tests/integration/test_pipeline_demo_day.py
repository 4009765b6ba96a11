"""The demo day through the whole pipeline (no scheduler), on SQLite and PostgreSQL.

The roll-up is checked against an independent computation: SQL aggregates over the
published village rows (``report``), not the pandas code that produced ``consolidated``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from huizong.catalogue import load_catalogue
from huizong.demo import generate_demo_day
from huizong.pipeline import run_day
from huizong.settings import Settings

DAY = date(2020, 1, 28)
TABLES = ["consolidated", "completeness", "quarantine", "submission_ledger", "report"]


@pytest.fixture(scope="module")
def demo_inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    inbox = tmp_path_factory.mktemp("inbox") / DAY.isoformat()
    generate_demo_day(DAY, inbox)
    return inbox


def _settings(tmp_path: Path, url: str) -> Settings:
    return Settings(home=tmp_path / "var", warehouse_url=url)


def _frame(engine: sa.Engine, table: str) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.read_sql(
            sa.text(f"SELECT * FROM {table} WHERE period = :p"), conn, params={"p": DAY.isoformat()}
        )
    keys = [
        c
        for c in ("unit_code", "indicator", "file_id", "sheet", "row_number", "rule")
        if c in frame.columns
    ]
    return frame.sort_values(keys).reset_index(drop=True)


def _values(engine: sa.Engine, level_sql: str, params: dict) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(level_sql), conn, params=params)


def test_demo_day_rolls_up_exactly(tmp_path: Path, warehouse_url: str, demo_inbox: Path) -> None:
    settings = _settings(tmp_path, warehouse_url)
    run_day(DAY, settings, demo_inbox)
    engine = sa.create_engine(warehouse_url)
    catalogue = load_catalogue()
    sums = [i for i in catalogue.numeric if i.across_units == "sum"]
    consolidated = _frame(engine, "consolidated")
    report = _frame(engine, "report")
    assert len(report) > 5000

    villages = report[report["unit_code"].str.len() == 12].copy()
    villages["township"] = villages["unit_code"].str.slice(0, 9)
    departments = report[report["unit_code"].str.contains("D")].copy()
    departments["parent"] = departments["unit_code"].str.split("D").str[0]

    def published(level: int, ind: str) -> pd.Series:
        rows = consolidated[
            (consolidated["level"] == level)
            & (consolidated["indicator"] == ind)
            & (consolidated["kind"] != "department")
        ]
        return rows.set_index("unit_code")["value"].astype("float64")

    for ind in sums:
        col = ind.code
        # townships: sum over their villages' accepted rows (SQL-free, plain pandas groupby
        # over the published base rows; blank stays blank: min_count=1)
        expected_t = villages.groupby("township")[col].sum(min_count=1).astype("float64")
        got_t = published(4, col)
        pd.testing.assert_series_equal(
            got_t.reindex(expected_t.index), expected_t, check_names=False, obj=f"township {col}"
        )
        # counties: sum of their townships (+ departments whose values add)
        town = got_t.groupby(got_t.index.str.slice(0, 6)).sum(min_count=1)
        expected_c = town
        if ind.department == "add":
            dep = departments[departments["parent"].str.len() == 6]
            dep_sum = dep.groupby("parent")[col].sum(min_count=1).astype("float64")
            expected_c = town.add(dep_sum, fill_value=0).where(
                town.notna() | dep_sum.reindex(town.index.union(dep_sum.index)).notna()
            )
        got_c = published(3, col)
        pd.testing.assert_series_equal(
            got_c.reindex(expected_c.index), expected_c, check_names=False, obj=f"county {col}"
        )
        # the city: sum of its counties (+ city departments whose values add)
        expected_city = got_c.sum(min_count=1)
        if ind.department == "add":
            city_dep = departments[departments["parent"] == "1309"][col]
            if city_dep.notna().any():
                expected_city = (0 if pd.isna(expected_city) else expected_city) + float(
                    city_dep.sum()
                )
        got_city = published(2, col).loc["1309"]
        assert (pd.isna(got_city) and pd.isna(expected_city)) or got_city == expected_city, col


def test_every_row_is_accounted_for(tmp_path: Path, warehouse_url: str, demo_inbox: Path) -> None:
    run_day(DAY, _settings(tmp_path, warehouse_url), demo_inbox)
    engine = sa.create_engine(warehouse_url)
    ledger = _frame(engine, "submission_ledger")
    read = ledger[ledger["status"] != "duplicate"]
    balance = read["rows_accepted"] + read["rows_quarantined"] + read["rows_superseded"]
    assert (read["rows_received"] == balance).all(), read
    # accepted rows are exactly the published base rows; quarantined rows are explained
    report = _frame(engine, "report")
    assert int(read["rows_accepted"].sum()) == len(report)
    quarantine = _frame(engine, "quarantine")
    quarantined_rows = quarantine.drop_duplicates(["file_id", "sheet", "row_number"])
    assert int(read["rows_quarantined"].sum()) == len(quarantined_rows)
    assert quarantine["message_zh"].str.len().gt(0).all()
    assert quarantine["message_en"].str.len().gt(0).all()
    # the demo's planted mistakes are all caught
    assert (quarantine["value"].astype(str) == "-5").any()
    assert (ledger["status"] == "duplicate").sum() == 1
    assert int(ledger["rows_superseded"].sum()) >= 1


def test_running_a_day_twice_gives_identical_tables(
    tmp_path: Path, warehouse_url: str, demo_inbox: Path
) -> None:
    settings = _settings(tmp_path, warehouse_url)
    engine = sa.create_engine(warehouse_url)
    run_day(DAY, settings, demo_inbox)
    first = {t: _frame(engine, t) for t in TABLES}
    run_day(DAY, settings, demo_inbox)
    for table in TABLES:
        pd.testing.assert_frame_equal(_frame(engine, table), first[table], obj=table)
