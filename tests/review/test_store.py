"""Review tables: idempotent DDL on SQLite and PostgreSQL; waivers read back typed."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from huizong.review import store
from huizong.sqlfiles import sql_dir

TABLES = {"steward_scope", "review_action", "review_waiver"}


def _check_schema(engine: sa.Engine) -> None:
    store.ensure_schema(engine)
    store.ensure_schema(engine)  # idempotent
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    cols = {c["name"] for c in sa.inspect(engine).get_columns("review_action")}
    assert cols == set(store.ACTION_COLUMNS)
    store.assign_scope(engine, "alice", ["130903", "130903"])  # repeat is harmless
    assert store.scopes_for(engine, "alice") == ("130903",)
    store.revoke_scope(engine, "alice", "130903")
    assert store.scopes_for(engine, "alice") == ()
    waivers = store.waivers_for(engine, "2026-11-26")
    assert list(waivers.columns) == store.WAIVER_COLUMNS and waivers.empty
    with engine.begin() as conn:
        conn.execute(
            store.statement("insert_waiver"),
            {
                "period": "2026-11-26",
                "file_id": "f" * 64,
                "sheet": "",
                "row_number": 3,
                "rule": "max:persons_screened",
                "username": "alice",
                "at": store.now_utc(),
                "justification": "核实无误",
            },
        )
    got = store.waivers_for(engine, "2026-11-26")
    assert got[["file_id", "row_number", "rule"]].values.tolist() == [
        ["f" * 64, 3, "max:persons_screened"]
    ]
    assert got["row_number"].dtype == "int64"
    assert str(got["at"].dtype).startswith("datetime64") and got["at"].dt.tz is not None
    assert store.waivers_for(engine, "2026-11-25").empty


def test_waivers_without_tables(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert store.waivers_for(engine, "2026-11-26").empty


def test_every_review_statement_is_one_statement() -> None:
    folder = sql_dir() / "review"
    for path in folder.rglob("*.sql"):
        text = path.read_text(encoding="utf-8").strip().rstrip(";")
        assert ";" not in text, path


def test_schema_both_dialects(warehouse_url: str, tmp_path: Path) -> None:
    (tmp_path / "wh").mkdir(exist_ok=True)
    engine = sa.create_engine(warehouse_url)
    try:
        _check_schema(engine)
    finally:
        engine.dispose()


#: review_action as the first release made it: its CHECK did not know "keep".
OLD_ACTION_DDL = (
    (sql_dir() / "review" / "schema" / "020_review_action.sql")
    .read_text(encoding="utf-8")
    .replace(", 'keep'", "")
    .strip()
    .rstrip(";")
)


def _action(action: str) -> dict[str, object]:
    row = dict.fromkeys(store.ACTION_COLUMNS)
    row.update(
        id=action,
        at=store.now_utc(),
        username="alice",
        action=action,
        period="2026-11-26",
        file_id="f" * 64,
        sheet="",
        row_number=2,
    )
    return row


def test_an_audit_table_from_before_keep_is_widened_and_keeps_its_rows(
    warehouse_url: str, tmp_path: Path
) -> None:
    (tmp_path / "wh").mkdir(exist_ok=True)
    engine = sa.create_engine(warehouse_url)
    try:
        with engine.begin() as conn:
            assert "'keep'" not in OLD_ACTION_DDL
            conn.execute(sa.text(OLD_ACTION_DDL))
            conn.execute(store.statement("insert_action"), _action("correct"))
        store.ensure_schema(engine)
        store.ensure_schema(engine)
        with engine.begin() as conn:
            conn.execute(store.statement("insert_action"), _action("keep"))
        assert store.actions_for(engine, "2026-11-26")["action"].tolist() == ["correct", "keep"]
        indexes = {i["name"] for i in sa.inspect(engine).get_indexes("review_action")}
        assert "review_action_period_idx" in indexes
        try:
            with engine.begin() as conn:
                conn.execute(store.statement("insert_action"), _action("delete_everything"))
        except sa.exc.IntegrityError:
            pass
        else:
            raise AssertionError("the widened CHECK still refuses unknown actions")
    finally:
        engine.dispose()
