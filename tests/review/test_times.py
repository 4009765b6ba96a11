"""Every page shows times in one zone, the receipts' (Beijing time), marked as such."""

from __future__ import annotations

import pandas as pd

from huizong.review.html import local_time, table


def test_a_utc_time_reads_in_beijing_time() -> None:
    assert (
        local_time(pd.Timestamp("2020-01-28 10:00:05", tz="UTC")) == "2020-01-28 18:00:05 北京时间"
    )
    assert local_time("2020-01-28 16:30:00") == "2020-01-29 00:30:00 北京时间"  # naive = UTC
    assert local_time("2020-01-28T18:00:00+08:00") == "2020-01-28 18:00:00 北京时间"
    assert local_time(None) == local_time(pd.NaT) == local_time("") == ""


def test_a_table_renders_its_time_columns_in_beijing_time() -> None:
    frame = pd.DataFrame({"at": pd.to_datetime(["2020-01-28 10:00"], utc=True), "n": [1]})
    html = table(frame, {"at": "时间 At", "n": "n"})
    assert "2020-01-28 18:00:00 北京时间" in html and "UTC" not in html


def test_a_time_stored_as_text_reads_in_beijing_time_too() -> None:
    """SQLite returns the audit's times as ISO text (a trial saw UTC under a Beijing header)."""
    frame = pd.DataFrame({"at": ["2026-12-02 05:52:35.728266+00:00"], "username": ["s"]})
    html = table(frame, {"at": "时间 At (北京时间)", "username": "用户 User"})
    assert "2026-12-02 13:52:35 北京时间" in html and "+00:00" not in html


def test_a_missing_figure_reads_blank_and_a_big_one_grouped() -> None:
    """pd.NA (a trace's unreported value) once raised 'boolean value of NA is ambiguous'."""
    from huizong.display import grouped

    assert grouped(pd.NA) == grouped(None) == grouped(float("nan")) == grouped("") == ""
    assert grouped(1234567.0) == "1,234,567" and grouped(1234.56) == "1,234.6"
