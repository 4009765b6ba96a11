"""A correction entered in review wins at the next run: the demo day through the real
pipeline, a warned value corrected, the day re-run (in-process, as the DAG's tasks do), and
the township, county and city totals move by exactly the corrected difference.

About 30 s (two runs of the demo day), so marked e2e.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from huizong.review import actions, queries, store

pytestmark = pytest.mark.e2e

DAY = date(2020, 1, 28)


def _totals(engine: sa.Engine, codes: list[str]) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.read_sql(
            sa.text("SELECT unit_code, indicator, value FROM consolidated WHERE period = :p"),
            conn,
            params={"p": DAY.isoformat()},
        )
    frame = frame[frame["unit_code"].isin(codes)]
    return frame.set_index(["unit_code", "indicator"])["value"].sort_index()


def test_correction_changes_totals_by_exactly_the_difference(tmp_path: Path) -> None:
    from huizong.demo import generate_demo_day
    from huizong.pipeline import run_day
    from huizong.settings import Settings

    settings = Settings(home=tmp_path / "var", inbox_root=tmp_path / "inbox")
    generate_demo_day(DAY, settings.inbox_for(DAY))
    run_day(DAY, settings)
    engine = sa.create_engine(settings.warehouse)
    store.ensure_schema(engine)

    warnings = queries.issues(engine, DAY, ["1309"], "warning")
    numeric = warnings[warnings["rule"].str.startswith("warn_above:")]
    assert len(numeric), "the demo day plants at least one unusually high value"
    issue = numeric.iloc[0]
    unit, column, old = str(issue["unit_code"]), str(issue["column"]), int(issue["value"])
    new = old // 10
    chain = [unit[:9], unit[:6], unit[:4]]  # township, county, city
    before = _totals(engine, chain)

    county = unit[:6]
    store.assign_scope(engine, "steward", [county])
    actions.correct(
        engine,
        settings,
        username="steward",
        period=DAY,
        file_id=str(issue["file_id"]),
        sheet=str(issue["sheet"]),
        row_number=int(issue["row_number"]),
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
    engine.dispose()
