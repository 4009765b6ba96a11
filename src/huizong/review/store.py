"""The review tables (steward_scope, reader_scope, review_action, review_waiver) and their
SQL files.

SQL lives in ``sql/review/`` (one statement per file, bound parameters only); the DDL in
``sql/review/schema/`` is applied in file-name order and is idempotent, so every process
may call :func:`ensure_schema` at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from huizong import warehouse
from huizong.sqlfiles import folder_statements
from huizong.sqlfiles import statement as sql_statement

WAIVER_COLUMNS = [
    "period",
    "file_id",
    "sheet",
    "row_number",
    "rule",
    "username",
    "at",
    "justification",
]
ACTION_COLUMNS = warehouse.ACTION_COLUMNS  # one list: the audit rows as lineage reads them


def statement(name: str) -> sa.TextClause:
    """One statement from ``sql/review/<name>.sql``."""
    return sql_statement(f"review/{name}.sql")


def schema_statements() -> list[str]:
    return folder_statements("review/schema")


def ensure_schema(engine: Engine) -> None:
    """Create the review tables if they are missing (safe to call on every start), and
    let a ``review_action`` table made before "keep this row" existed record it."""
    with engine.begin() as conn:
        for sql in schema_statements():
            conn.execute(sa.text(sql))
        if _refuses_keep(conn):
            _allow_keep(conn)
            for sql in schema_statements():  # SQLite: the index went with the old table
                conn.execute(sa.text(sql))


def _refuses_keep(conn: Connection) -> bool:
    checks = sa.inspect(conn).get_check_constraints("review_action")
    return any(
        "'mark_reviewed'" in str(c["sqltext"]) and "'keep'" not in str(c["sqltext"]) for c in checks
    )


def _allow_keep(conn: Connection) -> None:
    """Widen the action CHECK (``sql/review/migrate_keep``): PostgreSQL alters the
    constraint; SQLite cannot, so the table is rebuilt from the schema file, rows copied."""
    folder = "review/migrate_keep/" + conn.dialect.name
    steps = folder_statements(folder)
    if conn.dialect.name == "sqlite":
        table = next(
            sql for sql in schema_statements() if "TABLE IF NOT EXISTS review_action (" in sql
        )
        steps = [steps[0], table, *steps[1:]]
    for sql in steps:
        conn.execute(sa.text(sql))


def now_utc() -> str:
    """Timestamps are stored as ISO-8601 UTC text on SQLite and timestamptz on PostgreSQL."""
    return datetime.now(UTC).isoformat(sep=" ")


def period_text(period: str | date) -> str:
    """A reporting day as ``YYYY-MM-DD``; raises ValueError for anything else."""
    return date.fromisoformat(str(period)[:10]).isoformat()


def has_table(engine: Engine | Connection, name: str) -> bool:
    return sa.inspect(engine).has_table(name)


def read_frame(
    conn: Engine | Connection,
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    table: str | None = None,
) -> pd.DataFrame:
    """Run ``sql/review/<name>.sql``; an absent warehouse ``table`` reads as no rows."""
    if table is not None and not has_table(conn, table):
        return pd.DataFrame()
    if isinstance(conn, Engine):
        with conn.connect() as c:
            result = c.execute(statement(name), dict(params or {}))
            rows, keys = result.fetchall(), list(result.keys())
    else:
        result = conn.execute(statement(name), dict(params or {}))
        rows, keys = result.fetchall(), list(result.keys())
    frame = pd.DataFrame([tuple(r) for r in rows], columns=keys)
    if "period" in frame.columns:
        frame["period"] = frame["period"].map(period_text).astype("str")
    if "sheet" in frame.columns:
        frame["sheet"] = frame["sheet"].fillna("").astype("str")
    return frame


def unit_names(conn: Engine | Connection, codes: Iterable[object]) -> dict[str, str]:
    """Code -> registry name (``org_unit``) of the given codes; unknown codes are absent."""
    wanted = sorted({str(c) for c in codes if c is not None and not pd.isna(c) and str(c)})
    if not wanted or not has_table(conn, "org_unit"):
        return {}
    query = statement("select_unit_names").bindparams(sa.bindparam("codes", expanding=True))
    out: dict[str, str] = {}
    for start in range(0, len(wanted), 500):  # SQLite's limit on bound parameters
        chunk = {"codes": wanted[start : start + 500]}
        if isinstance(conn, Engine):
            with conn.connect() as c:
                rows = c.execute(query, chunk).fetchall()
        else:
            rows = conn.execute(query, chunk).fetchall()
        out.update({str(code): str(name) for code, name in rows})
    return out


# ---- scopes ---------------------------------------------------------------------------

#: A steward reviews and acts on their units; a reader (an agency) only downloads their
#: units' reports. Each role has its own table: one user may steward 运河区 and read 沧州市.
ROLES = ("steward", "reader")
_SCOPE_SQL = {
    "steward": ("insert_scope", "delete_scope", "select_scopes"),
    "reader": ("insert_reader_scope", "delete_reader_scope", "select_reader_scopes"),
}


def _scope_sql(role: str) -> tuple[str, str, str]:
    if role not in _SCOPE_SQL:
        raise ValueError(f"unknown role {role!r}; one of {ROLES}")
    return _SCOPE_SQL[role]


def assign_scope(
    engine: Engine, username: str, unit_codes: Iterable[str], role: str = "steward"
) -> None:
    """Give a user one or more org units (their whole subtree) in ``role``."""
    insert = _scope_sql(role)[0]
    with engine.begin() as conn:
        for code in unit_codes:
            conn.execute(statement(insert), {"username": username, "unit_code": code})


def revoke_scope(engine: Engine, username: str, unit_code: str, role: str = "steward") -> None:
    with engine.begin() as conn:
        conn.execute(statement(_scope_sql(role)[1]), {"username": username, "unit_code": unit_code})


def scopes_for(engine: Engine, username: str, role: str = "steward") -> tuple[str, ...]:
    """The unit codes a user is assigned in ``role`` (empty: nothing in that role)."""
    frame = read_frame(engine, _scope_sql(role)[2], {"username": username})
    return tuple(frame["unit_code"].astype(str)) if len(frame) else ()


# ---- waivers --------------------------------------------------------------------------


def waivers_for(engine: Engine, period: str | date) -> pd.DataFrame:
    """Accepted values of one day: validation should not fail these (row key + rule) again."""
    if not has_table(engine, "review_waiver"):
        return _empty_waivers()
    frame = read_frame(engine, "select_waivers_period", {"period": period_text(period)})
    if frame.empty:
        return _empty_waivers()
    frame = frame.reindex(columns=WAIVER_COLUMNS)
    for col in ("period", "file_id", "sheet", "rule", "username", "justification"):
        frame[col] = frame[col].astype("str")
    frame["row_number"] = frame["row_number"].astype("int64")
    frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
    return frame


def _empty_waivers() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series([], dtype="str") for c in WAIVER_COLUMNS})
    out["row_number"] = pd.Series([], dtype="int64")
    out["at"] = pd.Series([], dtype="datetime64[us, UTC]")
    return out


def actions_for(engine: Engine, period: str | date) -> pd.DataFrame:
    """Every review action of one day, oldest first."""
    if not has_table(engine, "review_action"):
        return pd.DataFrame(columns=ACTION_COLUMNS)
    frame = read_frame(engine, "select_actions_period", {"period": period_text(period)})
    return frame.reindex(columns=ACTION_COLUMNS)


RERUN_COLUMNS = ["id", "at", "username", "period", "scopes", "dag_run_id", "justification"]


def record_rerun(
    engine: Engine,
    *,
    username: str,
    period: str | date,
    scopes: Iterable[str],
    dag_run_id: str,
    justification: str,
) -> dict[str, str]:
    """The audit row of a re-run a steward triggered (who, when, which run, why)."""
    import uuid

    row = {
        "id": uuid.uuid4().hex,
        "at": now_utc(),
        "username": username,
        "period": period_text(period),
        "scopes": ",".join(scopes),
        "dag_run_id": dag_run_id,
        "justification": justification,
    }
    with engine.begin() as conn:
        conn.execute(statement("insert_rerun"), row)
    return row


def reruns_for(engine: Engine, period: str | date) -> pd.DataFrame:
    """Every re-run of one day triggered from the review page, oldest first."""
    if not has_table(engine, "review_rerun"):
        return pd.DataFrame(columns=RERUN_COLUMNS)
    frame = read_frame(engine, "select_reruns_period", {"period": period_text(period)})
    return frame.reindex(columns=RERUN_COLUMNS)
