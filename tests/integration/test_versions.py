"""Versioned publishing of the demo day: a steward's correction makes version 2, ``asof`` a
time between the two returns version 1's tables exactly, and the change report lists
exactly the values that differ (checked against a diff computed here, independently).
A re-run with unchanged inputs makes no version and leaves every row as it was.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from helpers.corrections import correct_planted_value
from huizong.cli import main
from huizong.demo import generate_demo_day
from huizong.pipeline import run_day
from huizong.publish.warehouse import (
    read_asof,
    read_changes,
    read_table,
    read_versions,
    version_at,
)
from huizong.settings import Settings

pytestmark = pytest.mark.e2e

DAY = date(2020, 1, 28)
VERSIONED = ("consolidated", "completeness")


def _tables(url: str) -> dict[str, pd.DataFrame]:
    return {t: read_table(url, t, DAY) for t in VERSIONED}


def _independent_diff(before: pd.DataFrame, after: pd.DataFrame) -> set[tuple[str, str]]:
    """(unit, indicator) whose published row differs in any column: rows that appear in
    only one of the two publications once identical rows cancel out."""
    both = pd.concat([before, after]).astype("str")
    lonely = both.drop_duplicates(keep=False)
    return set(zip(lonely["unit_code"], lonely["indicator"], strict=True))


@pytest.fixture
def demo(tmp_path, warehouse_url: str) -> Settings:
    settings = Settings(
        home=tmp_path / "var", inbox_root=tmp_path / "inbox", warehouse_url=warehouse_url
    )
    generate_demo_day(DAY, settings.inbox_for(DAY))
    return settings


def test_a_correction_is_version_two_and_asof_returns_version_one(demo: Settings) -> None:
    url = demo.warehouse
    run_day(DAY, demo, trigger="nightly")
    v1 = _tables(url)
    between = datetime.now(UTC)

    issue = correct_planted_value(demo, DAY)
    summary = run_day(DAY, demo, trigger="correction")
    v2 = _tables(url)

    assert summary["publish"]["version"] == 2
    known = read_versions(url, DAY)
    assert known["version"].tolist() == [1, 2]
    assert known["trigger"].tolist() == ["nightly", "correction"]
    assert (known["inputs"] > 0).all()
    assert version_at(url, DAY, between) == 1
    assert version_at(url, DAY, datetime(2000, 1, 1, tzinfo=UTC)) is None
    for table in VERSIONED:
        pd.testing.assert_frame_equal(read_asof(url, table, DAY, 1), v1[table], obj=table)
        pd.testing.assert_frame_equal(read_asof(url, table, DAY, 2), v2[table], obj=table)

    changes = read_changes(url, DAY, 2)
    listed = set(zip(changes["unit_code"], changes["indicator"], strict=True))
    assert listed == _independent_diff(v1["consolidated"], v2["consolidated"])
    column, village = str(issue["column"]), str(issue["unit_code"])
    moved = changes[changes["indicator"] == column]
    assert set(moved["unit_code"]) >= {village[:9], village[:6], village[:4]}
    assert (moved["new_value"] - moved["old_value"]).nunique() == 1
    assert moved["cause"].str.contains(village).all()
    assert moved["cause"].str.contains("审核更正 steward correction").all()
    assert int(known["changed_values"].iloc[1]) == len(changes)


def test_an_unchanged_rerun_makes_no_version_and_keeps_the_rows(demo: Settings) -> None:
    url = demo.warehouse
    run_day(DAY, demo, trigger="nightly")
    before = _tables(url)
    again = run_day(DAY, demo, trigger="backfill")
    assert again["publish"]["unchanged"] is True
    assert again["publish"]["version"] == 1
    assert read_versions(url, DAY)["version"].tolist() == [1]
    for table, frame in _tables(url).items():
        pd.testing.assert_frame_equal(frame, before[table], obj=table)


def _csv_column(path, column: str) -> list[str]:
    """The column as printed, not as pandas parses it back."""
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        return [row[column] for row in csv.DictReader(fh) if row[column]]


def test_cli_asof_and_changes(demo: Settings, monkeypatch, capsys, tmp_path) -> None:
    run_day(DAY, demo)
    monkeypatch.setenv("HUIZONG_HOME", str(demo.home))
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", demo.warehouse)
    out = tmp_path / "asof.csv"
    assert main(["asof", "--date", "2020-01-28", "--at", "2100-01-01T08:00", "-o", str(out)]) == 0
    got = pd.read_csv(out, dtype={"unit_code": "str", "parent_code": "str"})
    counts = got.loc[got["indicator"] == "persons_screened", "value"].dropna()
    assert len(counts) and not any(v.endswith(".0") for v in _csv_column(out, "value"))
    assert len(got) == len(read_table(demo.warehouse, "consolidated", DAY))
    assert main(["asof", "--date", "2020-01-28", "--at", "2000-01-01T08:00+08:00"]) == 2
    assert "尚未发布" in capsys.readouterr().err
    assert main(["versions", "--date", "2020-01-28"]) == 0
    listed = capsys.readouterr().out
    assert "manual" in listed and "NaN" not in listed and "None" not in listed


def test_cli_changes_counts_as_versions_and_refuses_unknown_version(
    demo: Settings, monkeypatch, capsys
) -> None:
    """``changes`` says how many indicator values changed by the rule ``versions`` counts
    by (one figure for one version), and a version that does not exist is an error."""
    run_day(DAY, demo, trigger="nightly")
    correct_planted_value(demo, DAY)
    run_day(DAY, demo, trigger="correction")
    monkeypatch.setenv("HUIZONG_HOME", str(demo.home))
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", demo.warehouse)
    capsys.readouterr()
    assert main(["changes", "--date", "2020-01-28", "--version", "2"]) == 0
    counted = int(read_versions(demo.warehouse, DAY)["changed_values"].iloc[1])
    assert f"of which {counted} indicator values changed" in capsys.readouterr().err
    assert main(["changes", "--date", "2020-01-28", "--version", "3"]) == 2
    assert "没有第3版" in capsys.readouterr().err
