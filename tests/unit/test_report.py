"""The summary ``make demo`` prints comes from the published tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from huizong.report import summarise
from huizong.settings import Settings


def test_summary_reads_the_warehouse(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    engine = sa.create_engine(settings.warehouse)
    day = "2020-01-28"
    pd.DataFrame(
        {
            "period": [day, day, "2020-01-27"],
            "rows_received": [10, 5, 99],
            "rows_accepted": [8, 4, 99],
            "rows_quarantined": [1, 1, 0],
            "rows_superseded": [1, 0, 0],
        }
    ).to_sql("submission_ledger", engine, index=False)
    pd.DataFrame(
        {
            "period": [day, day, day, day],
            "unit_name": ["沧州市", "运河区", "沧州市教育局", "运河区教育局"],
            "level": [2, 3, 3, 4],
            "kind": ["city", "county", "department", "department"],
            "expected_units": [20, 5, 1, 1],
            "reported_units": [12, 5, 1, 0],
            "reporting_rate": [0.6, 1.0, 1.0, 0.0],
            "late_units": [3, 0, 0, 0],
        }
    ).to_sql("completeness", engine, index=False)
    pd.DataFrame({"period": [day, day, day], "rule": ["unit_known", "x", "unit_known"]}).to_sql(
        "quarantine", engine, index=False
    )
    engine.dispose()
    text = summarise(date(2020, 1, 28), settings)
    assert "files 2: rows received 15 = accepted 12 + quarantined 2 + superseded 1" in text
    # the reporters split as villages + departments: an indicator's 应报 on the totals
    # page (villages, plus only the departments it adds) can read fewer, as 6094 vs 6099
    assert (
        "沧州市: 12/20 reporters (60.0%), 3 late — 18 villages/communities + 2 departments" in text
    )
    assert "    2 × unit_known" in text
    assert str(settings.warehouse) in text
