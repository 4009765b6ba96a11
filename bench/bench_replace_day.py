"""Replacing one day of ``consolidated`` at national size: the write path alone.

The day already holds N rows (default 1,877,568: 44,704 units x 42 indicators, the
national day) and is replaced by N new rows in one transaction, commit included:

- ``floor``: COPY into an unindexed table (LIKE consolidated) — the best the server does
- ``pg plain``: DELETE of the day + COPY into the keyed table (a warehouse made before
  day partitions; what every PostgreSQL publish did before)
- ``pg partitioned``: COPY into a staging table, primary key built after, drop of the old
  partition + attach (``_stage_day`` / ``_swap_day``: what a publish does now)
- ``sqlite``: DELETE + chunked executemany, indexes kept, with and without the bulk pragmas

Each path runs in this process one after the other; the table gives seconds, the ratio to
the floor of the same dialect measured in the same run, and the CPU share this process got
(PostgreSQL's own work happens in the server, so a low share there means waiting on it).

    .venv/bin/python bench/bench_replace_day.py [--rows 1877568]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_publish import DAY, consolidated
from peak import peak_rss_bytes

from huizong import warehouse
from huizong.catalogue import load_catalogue
from huizong.publish import warehouse as wh
from huizong.sqlfiles import load_sql

CAT = load_catalogue()


def _admin(admin_url: str, sql_file: str, name: str) -> None:
    stmt = load_sql(sql_file).format(name=warehouse.quote_identifier(name))
    with warehouse.engine(admin_url) as engine, engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(stmt)


def _fresh_pg(admin_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    _admin(admin_url, "bench/drop_database.sql", name)
    _admin(admin_url, "bench/create_database.sql", name)
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _timed(url: str, work: Callable[[Connection], None]) -> dict[str, float]:
    with warehouse.engine(url) as engine:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        with engine.begin() as conn:
            work(conn)
        wall = time.perf_counter() - wall0
        return {"op": wall, "cpu": time.process_time() - cpu0}


def _count(url: str) -> int:
    with warehouse.engine(url) as engine, engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM consolidated")).scalar_one()


def _plain_schema(url: str) -> None:
    with warehouse.engine(url) as engine, engine.begin() as conn:
        for stmt in wh.schema_statements(CAT):  # no partitions: the layout made before them
            conn.execute(text(stmt))


def _replace_plain(frame):
    def work(conn: Connection) -> None:
        wh._delete(conn, "consolidated", DAY)
        wh._bulk(conn, "consolidated", frame)

    return work


def _replace_partition(frame, version: int):
    def work(conn: Connection) -> None:
        staged = wh._stage_day(conn, "consolidated", DAY, version, frame)
        wh._swap_day(conn, "consolidated", DAY, staged)

    return work


def _floor(frame):
    def work(conn: Connection) -> None:
        q = warehouse.quote_identifier("floor_consolidated")
        conn.exec_driver_sql(load_sql("bench/drop_table.sql").format(target=q))
        create = load_sql("bench/create_unindexed_like.sql")
        source = warehouse.quote_identifier("consolidated")
        conn.exec_driver_sql(create.format(target=q, source=source))
        wh.copy_csv(conn, "floor_consolidated", frame)

    return work


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=44_704 * 42)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args()
    old, new = consolidated(args.rows), consolidated(args.rows)
    new["value"] = new["value"] + 1
    got: dict[str, dict[str, float]] = {}

    plain = _fresh_pg(args.pg, "huizong_bench_replace_plain")
    part = _fresh_pg(args.pg, "huizong_bench_replace_part")
    try:
        _plain_schema(plain)
        _timed(plain, _replace_plain(old))  # the day as it stood
        got["pg plain: DELETE + COPY keyed"] = _timed(plain, _replace_plain(new))
        assert _count(plain) == len(new)
        with warehouse.engine(part) as engine, engine.begin() as conn:
            wh.ensure_schema(conn, CAT)
        _timed(part, _replace_partition(old, 1))
        got["pg partitioned: stage + PK + swap"] = _timed(part, _replace_partition(new, 2))
        assert _count(part) == len(new)
        got["pg floor: COPY unindexed"] = _timed(part, _floor(new))
    finally:
        _admin(args.pg, "bench/drop_database.sql", "huizong_bench_replace_plain")
        _admin(args.pg, "bench/drop_database.sql", "huizong_bench_replace_part")

    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            for label, pragmas in (("sqlite, no pragmas", False), ("sqlite, bulk pragmas", True)):
                url = f"sqlite:///{Path(tmp) / f'{pragmas}.sqlite'}"
                _plain_schema(url)
                _timed(url, _replace_plain(old))

                def work(conn: Connection, pragmas: bool = pragmas) -> None:
                    if pragmas:
                        wh._sqlite_bulk_pragmas(conn)
                    _replace_plain(new)(conn)

                got[f"{label}: DELETE + executemany"] = _timed(url, work)
                assert _count(url) == len(new)

    floor = got["pg floor: COPY unindexed"]["op"]
    lite = got.get("sqlite, no pragmas: DELETE + executemany", {}).get("op")
    print(f"\nconsolidated day replaced: {len(new):,} rows over {len(old):,}")
    print("| path | op | ratio to floor | CPU share |\n|---|---|---|---|")
    for label, r in got.items():
        ref, ref_label = (floor, "pg floor") if label.startswith("pg") else (lite, "no pragmas")
        ratio = f"{r['op'] / ref:.2f}× ({ref_label})" if ref else "–"
        print(f"| {label} | {r['op']:.2f} s | {ratio} | {r['cpu'] / r['op']:.0%} |")
    rss = peak_rss_bytes() / 2**30
    print(f"\npeak RSS {rss:.2f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
