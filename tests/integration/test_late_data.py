"""Late data: a township's file for D−2 dropped into the inbox of day D.

The night of D moves it to D−2 (its rows in D's ledger are superseded as 迟报, never
quarantined as the wrong day), re-publishes D−2 as a new version with its week, 旬 and
month, counts the file's villages late there (from the receipt time), and leaves D−1 as it
was: same version, same rows.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from huizong.demo import generate_demo_day
from huizong.periods import parse_period
from huizong.pipeline import run_day
from huizong.publish.warehouse import (
    read_day_range,
    read_period_table,
    read_table,
    read_versions,
)
from huizong.settings import Settings

pytestmark = pytest.mark.e2e

D2, D1, D = date(2020, 1, 26), date(2020, 1, 27), date(2020, 1, 28)


def _clean_township_file(inbox, day: date) -> str:
    """A township workbook of the demo day with no planted mistake in it."""
    manifest = json.loads(inbox.with_name(f"{day.isoformat()}.manifest.json").read_text())
    planted = {m.get("file") for m in manifest["mistakes"]} | {
        m.get("supersedes") for m in manifest["mistakes"]
    }
    return next(
        f["name"]
        for f in manifest["files"]
        if f["kind"] == "township" and f["format"] == "xlsx" and f["name"] not in planted
    )


def test_a_late_file_republishes_only_its_day(tmp_path) -> None:
    settings = Settings(home=tmp_path / "var", inbox_root=tmp_path / "inbox")
    for day in (D2, D1, D):
        generate_demo_day(day, settings.inbox_for(day))
    name = _clean_township_file(settings.inbox_for(D2), D2)
    township = name.split("_")[0]
    (settings.inbox_for(D2) / name).rename(settings.inbox_for(D) / name)  # arrives 2 days late

    run_day(D2, settings, trigger="nightly")
    run_day(D1, settings, trigger="nightly")
    before_d2 = read_table(settings.warehouse, "completeness", D2).set_index("unit_code")
    before_d1 = {t: read_table(settings.warehouse, t, D1) for t in ("consolidated", "report")}
    assert before_d2.loc[township, "reported_units"] == 0

    summary = run_day(D, settings, trigger="nightly")

    assert summary["late"]["late_days"] == [D2.isoformat()]
    assert summary["republished"]["republished"] == {D2.isoformat(): 2}
    versions = read_versions(settings.warehouse, D2)
    assert versions["trigger"].tolist() == ["nightly", "late"]
    # D−1 untouched: one version, the same rows
    assert read_versions(settings.warehouse, D1)["version"].tolist() == [1]
    for table, frame in before_d1.items():
        pd.testing.assert_frame_equal(read_table(settings.warehouse, table, D1), frame, obj=table)

    # D−2 now has the township's villages, all counted late (their receipt is on day D)
    after = read_table(settings.warehouse, "completeness", D2).set_index("unit_code")
    report = read_table(settings.warehouse, "report", D2)
    villages = report[report["unit_code"].str.startswith(township)]
    assert len(villages) > 0
    assert after.loc[township, "reported_units"] == len(villages)
    assert after.loc[township, "late_units"] == len(villages)
    assert (pd.to_datetime(villages["received_at"]).dt.date >= D).all()
    county = township[:6]
    grew = after.loc[county, "reported_units"] - before_d2.loc[county, "reported_units"]
    assert grew == len(villages)

    # day D: the file is in its ledger as superseded (迟报), nothing quarantined for it
    ledger = read_table(settings.warehouse, "submission_ledger", D)
    row = ledger[ledger["file_name"] == name].iloc[0]
    assert row["status"] == "superseded" and "迟报" in row["message"]
    assert row["rows_superseded"] == row["rows_received"] > 0
    quarantine = read_table(settings.warehouse, "quarantine", D)
    assert not (quarantine["file_id"] == row["file_id"]).any()

    # the month still runs through D (not cut back to D−2), and includes the late villages
    month = read_period_table(
        settings.warehouse, "period_consolidated", "month", parse_period("2020-01").start
    )
    assert set(month["through"]) == {D.isoformat()}
    daily = read_day_range(settings.warehouse, "consolidated", D2, D)
    flows = daily[(daily["unit_code"] == county) & (daily["indicator"] == "persons_screened")]
    cell = month[(month["unit_code"] == county) & (month["indicator"] == "persons_screened")]
    assert float(cell["value"].iloc[0]) == flows["value"].sum()
    week = read_period_table(
        settings.warehouse, "period_consolidated", "week", parse_period("2020-W04").start
    )
    assert set(week["through"]) == {D2.isoformat()}
