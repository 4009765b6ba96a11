"""Consecutive demo days must not contradict each other (through the quality check)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from huizong import frames
from huizong.demo import generate_demo_day
from huizong.pipeline import ingest_day, run_day, validate_day
from huizong.quality.cumulative import RULE as CUMULATIVE_DOWN
from huizong.settings import Settings

DAY = date(2020, 1, 28)


def test_the_day_after_the_demo_day_carries_cumulative_counts_forward(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "var")
    following = DAY + timedelta(days=1)
    for day in (DAY, following):
        generate_demo_day(day, settings.inbox_for(day))
    run_day(DAY, settings)  # published: the history the next day is compared with
    ingest_day(following, settings)
    summary = validate_day(following, settings)
    warnings = pd.read_parquet(settings.run_dir(following) / frames.WARNINGS)
    down = warnings[warnings["rule"].str.startswith(CUMULATIVE_DOWN)]
    assert down.empty, down[["unit_code", "column", "message_en"]].head(10).to_string()
    assert summary["accepted"] > 5000  # the comparison ran over a whole day of villages
    # and the error rules between flows and their cumulative still hold (none quarantined)
    quarantine = pd.read_parquet(settings.run_dir(following) / frames.QUARANTINE)
    assert set(quarantine["rule"]) <= {
        "unique_unit_day",
        "min:masks_in_stock",
        "rule:returnees_new_le_total",
        "unit_known",
    }
    assert (quarantine["rule"] == "rule:returnees_new_le_total").sum() == 1  # the planted one
