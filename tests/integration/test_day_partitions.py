"""PostgreSQL day partitions: a new warehouse has one partition per day, a warehouse made
before them keeps working, and both publish the same rows."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from test_warehouse import CAT, DAY_A, DAY_B, make_day, registry  # noqa: F401

from huizong.publish.warehouse import (
    PER_DAY_TABLES,
    TABLES,
    _ensure_views,
    normalise_url,
    partitioned_tables,
    publish_tables,
    read_table,
    schema_statements,
)

pytestmark = pytest.mark.postgres


def _children(url: str, table: str) -> list[str]:
    engine = create_engine(normalise_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            stmt = text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = CAST(:t AS regclass) ORDER BY 1"
            )
            return list(conn.execute(stmt, {"t": table}).scalars())
    finally:
        engine.dispose()


def _everything(url: str) -> dict[str, pd.DataFrame]:
    out = {}
    for table in TABLES:
        days = [None] if table == "org_unit" else [DAY_A, DAY_B]
        out[table] = pd.concat(
            [read_table(url, table, d, catalogue=CAT) for d in days], ignore_index=True
        )
    return out


def _legacy_warehouse(url: str) -> None:
    """The schema as the code before day partitions created it: plain tables."""
    engine = create_engine(normalise_url(url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for stmt in schema_statements(CAT):
                conn.execute(text(stmt))
            _ensure_views(conn)
    finally:
        engine.dispose()


def _publish_days(url: str, registry) -> None:  # noqa: F811
    publish_tables(url, DAY_A, make_day(DAY_A), registry, CAT)
    publish_tables(url, DAY_B, make_day(DAY_B), registry, CAT)
    publish_tables(url, DAY_A, make_day(DAY_A, bump=7), registry, CAT)  # replaces day A


def test_a_new_warehouse_has_one_partition_per_day(pg_url, registry):  # noqa: F811
    _publish_days(pg_url, registry)
    engine = create_engine(normalise_url(pg_url), poolclass=NullPool)
    with engine.connect() as conn:
        assert partitioned_tables(conn) == set(PER_DAY_TABLES)
    engine.dispose()
    for table in PER_DAY_TABLES:
        kids = _children(pg_url, table)
        # the default partition, day B's, and day A's latest only (the first one dropped)
        assert len(kids) == 3, (table, kids)
        assert f"{table}_default" in kids
        assert sum(k.startswith(f"{table}_20261125_v") for k in kids) == 1, kids
        assert sum(k.startswith(f"{table}_20261126_v") for k in kids) == 1, kids
    rep = read_table(pg_url, "report", DAY_A, catalogue=CAT).set_index("unit_code")
    assert rep.loc["130903001001", "households_visited"] == 1 + 7


def test_a_warehouse_made_before_partitions_is_published_into_and_equals_a_new_one(
    pg_url,
    registry,  # noqa: F811
    tmp_path,
    fresh_pg,
):
    _legacy_warehouse(pg_url)
    _publish_days(pg_url, registry)
    engine = create_engine(normalise_url(pg_url), poolclass=NullPool)
    with engine.connect() as conn:
        assert partitioned_tables(conn) == set()  # the old layout is kept, not half-changed
    engine.dispose()
    with fresh_pg() as new_url:
        _publish_days(new_url, registry)
        old, new = _everything(pg_url), _everything(new_url)
    sqlite_url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    _publish_days(sqlite_url, registry)
    lite = _everything(sqlite_url)
    for table in TABLES:
        assert len(new[table]) > 0, table
        pd.testing.assert_frame_equal(old[table], new[table], obj=table)
        pd.testing.assert_frame_equal(lite[table], new[table], obj=table)


def test_rows_another_writer_put_in_the_default_partition_are_superseded(
    pg_url,
    registry,  # noqa: F811
):
    publish_tables(pg_url, DAY_A, make_day(DAY_A), registry, CAT)
    engine = create_engine(normalise_url(pg_url), poolclass=NullPool)
    with engine.begin() as conn:  # a day with no partition yet lands in the default one
        conn.execute(
            text(
                "INSERT INTO completeness (period, unit_code, level, kind, expected_units, "
                "reported_units, missing_units) VALUES (:p, 'stray', 4, 'township', 1, 0, 1)"
            ),
            {"p": DAY_B},
        )
        count = "SELECT count(*) FROM completeness_default"
        assert conn.execute(text(count)).scalar_one() == 1
    publish_tables(pg_url, DAY_B, make_day(DAY_B), registry, CAT)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM completeness_default")).scalar_one() == 0
    engine.dispose()
    got = read_table(pg_url, "completeness", DAY_B)
    assert "stray" not in set(got["unit_code"])
    assert len(got) == len(read_table(pg_url, "completeness", DAY_A))


def test_two_days_published_at_once_both_land(pg_url, registry):  # noqa: F811
    """Each swap locks the parents: publishers of different days queue on one advisory
    lock taken before any read, instead of deadlocking on DROP/ATTACH."""
    import threading

    publish_tables(pg_url, DAY_A, make_day(DAY_A), registry, CAT)
    publish_tables(pg_url, DAY_B, make_day(DAY_B), registry, CAT)
    errors: list[BaseException] = []

    def publish(day, bump) -> None:
        try:
            publish_tables(pg_url, day, make_day(day, bump=bump), registry, CAT)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=publish, args=(d, 5)) for d in (DAY_A, DAY_B)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    for day in (DAY_A, DAY_B):
        rep = read_table(pg_url, "report", day, catalogue=CAT).set_index("unit_code")
        assert rep.loc["130903001001", "households_visited"] == 1 + 5
