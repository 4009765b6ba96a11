"""Figures to the catalogue's precision (trial: a rate read 97.0749 → 97.075, difference
+0.000157514 on the change page)."""

from __future__ import annotations

import pandas as pd

from huizong.catalogue import load_catalogue
from huizong.display import figure
from huizong.review.routes.changes import _difference, _shown

CAT = load_catalogue()


def test_a_rate_reads_to_its_catalogue_decimals_with_percent() -> None:
    rate = CAT.indicator("followup_rate")
    assert rate.decimals == 1 and rate.unit == "%"
    assert figure(97.0749, rate.decimals, rate.unit) == "97.1%"
    assert figure(0.000157514, rate.decimals, rate.unit, sign=True) == "0.0%"
    assert figure(-0.26, rate.decimals, rate.unit, sign=True) == "-0.3%"
    assert figure(1234.0, 0) == "1,234" and figure(None, 1) == ""


def test_the_change_page_shows_a_rate_change_to_its_precision() -> None:
    precision = {i.code: (i.decimals, i.unit) for i in CAT.indicators}
    rec = pd.Series(
        {
            "indicator": "followup_rate",
            "old_value": 97.0749,
            "new_value": 97.2751,
            "difference": 97.2751 - 97.0749,
            "old_value_text": None,
            "new_value_text": None,
        }
    )
    assert (_shown(rec, "old", precision), _shown(rec, "new", precision)) == ("97.1%", "97.3%")
    assert _difference(rec, precision) == "+0.2%"
    count = rec.copy()
    count[["indicator", "old_value", "new_value", "difference"]] = ["persons_screened", 55, 60, 5]
    assert (_shown(count, "new", precision), _difference(count, precision)) == ("60", "+5")


def test_a_run_id_shows_its_time_in_beijing_beside_the_id() -> None:
    """Trial: run ids read ``+00:00`` (UTC) where a steward looks for when a run was."""
    from huizong.display import local_time, run_label

    run = "manual__2020-01-28T10:30:05.123456+00:00"
    shown = run_label(run)
    assert shown.startswith(f"manual（{local_time('2020-01-28T10:30:05+00:00')}）")
    assert "2020-01-28 18:30:05 北京时间" in shown and shown.endswith(run)
    assert run_label(None) == "" and run_label("huizong run") == "huizong run"
