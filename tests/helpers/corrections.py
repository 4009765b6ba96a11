"""A steward's correction of one planted too-high village value, through the review code."""

from __future__ import annotations

from datetime import date

import pandas as pd
import sqlalchemy as sa

from huizong.publish.warehouse import TABLES, read_changes, read_table, read_versions
from huizong.review import actions, queries, store
from huizong.settings import Settings

#: Columns of a version that say when and by which run, not what was published.
RUN_COLUMNS = ["published_at", "run_id"]


def correct_planted_value(settings: Settings, day: date, within: str = "1309") -> pd.Series:
    """Divide a planted ``warn_above`` value of a village under ``within`` by ten, as a
    steward of its county; returns the warning row that was corrected."""
    engine = sa.create_engine(settings.warehouse)
    try:
        store.ensure_schema(engine)
        warnings = queries.issues(engine, day, [within], "warning")
        issue = warnings[
            warnings["rule"].str.startswith("warn_above:")
            & warnings["unit_code"].astype("str").str.fullmatch(r"\d{12}")
        ].iloc[0]
        store.assign_scope(engine, "steward", [str(issue["unit_code"])[:6]])
        actions.correct(
            engine,
            settings,
            username="steward",
            period=day,
            file_id=str(issue["file_id"]),
            sheet=str(issue["sheet"]),
            row_number=int(issue["row_number"]),
            column=str(issue["column"]),
            new_value=str(int(issue["value"]) // 10),
            justification="多打了一位",
        )
    finally:
        engine.dispose()
    return issue


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    text = frame.astype("str")
    return text.sort_values(list(text.columns), kind="stable").reset_index(drop=True)


def published_tables(url: str, day: date) -> dict[str, pd.DataFrame]:
    """Every table the day published, its versions (without when and which run) and the
    change report of version 2, each sorted: what two ways of re-publishing must agree on."""
    out = {t: _sorted(read_table(url, t, None if t == "org_unit" else day)) for t in TABLES}
    out["versions"] = _sorted(read_versions(url, day).drop(columns=RUN_COLUMNS))
    for table in ("consolidated", "completeness"):
        out[f"changes_{table}"] = _sorted(read_changes(url, day, 2, table))
    return out
