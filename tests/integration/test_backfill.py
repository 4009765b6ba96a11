"""``huizong backfill``: days run oldest first with trigger backfill; a day already
published with unchanged inputs gets no new version and keeps its rows."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from huizong.cli import main
from huizong.demo import generate_demo_day
from huizong.pipeline import run_day
from huizong.publish.warehouse import read_table, read_versions
from huizong.settings import Settings

pytestmark = pytest.mark.e2e

DAYS = (date(2020, 1, 28), date(2020, 1, 29))


def test_backfill_runs_oldest_first_and_unchanged_days_keep_their_version(
    tmp_path, monkeypatch, capsys
) -> None:
    home = tmp_path / "var"
    url = f"sqlite:///{tmp_path / 'wh.sqlite'}"
    settings = Settings(home=home, warehouse_url=url)
    for day in DAYS:
        generate_demo_day(day, settings.inbox_for(day))
    run_day(DAYS[0], settings, trigger="nightly")
    before = read_table(url, "consolidated", DAYS[0])
    monkeypatch.setenv("HUIZONG_HOME", str(home))
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", url)

    assert main(["backfill", "--from", "2020-01-28", "--to", "2020-01-29"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "2020-01-28 第1版 version 1: 未变 unchanged",
        "2020-01-29 第1版 version 1: 新版本 new version",
    ]
    first, second = (read_versions(url, d) for d in DAYS)
    assert first["trigger"].tolist() == ["nightly"]
    assert second["trigger"].tolist() == ["backfill"]
    pd.testing.assert_frame_equal(read_table(url, "consolidated", DAYS[0]), before)
    # oldest first: day 2 was published after day 1's (unchanged) run
    assert second["published_at"].iloc[0] > first["published_at"].iloc[0]

    assert main(["backfill", "--from", "2020-01-28", "--to", "2020-01-29"]) == 0
    assert all("未变 unchanged" in line for line in capsys.readouterr().out.splitlines())
    assert [len(read_versions(url, d)) for d in DAYS] == [1, 1]

    assert main(["backfill", "--from", "2020-01-29", "--to", "2020-01-28"]) == 2
    assert "--to is before --from" in capsys.readouterr().err
