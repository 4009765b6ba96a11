"""Publishing a whole day, before and after the day partitions, against the COPY floor.

For each size (city, province, nation: the days of ``bench/national_day.py``, whose run
files must exist — ``bench_national.py`` or its ``--child ingest/validate/rollup`` make
them) every variant runs in its own process on a fresh database and times two calls of
``publish_tables``: the first publish of the day, then a replace of it (one value of
``consolidated`` changed, so the day is a new version and every row is written again —
what a correction costs). Inside the replace it also times ``_plan_version`` (reading the
old day and diffing it in pandas: the versioning cost).

| variant | what |
|---|---|
| ``floor`` | COPY of the same load frames into unindexed tables (LIKE), one transaction |
| ``pg_plain`` | PostgreSQL, plain tables (made before partitions): DELETE + COPY, keyed |
| ``pg_part`` | PostgreSQL, one partition per day: staging COPY, PK built after, drop + attach |
| ``sqlite_plain`` | SQLite without the bulk pragmas (as before) |
| ``sqlite`` | SQLite with the bulk pragmas (cache, temp_store; rollback journal) |
| ``sqlite_wal`` | the same with the file in journal_mode=WAL |

CPU share = CPU time of this process / wall time (the server's own work is not in it;
below 100 % for PostgreSQL mostly means waiting on the server). Peak RSS is the
process's. Compare the ratios of one run, never seconds across runs.

    .venv/bin/python bench/bench_publish_day.py [--sizes city,province] [--pg ADMIN_URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import national_day as nd
from peak import peak_rss_bytes

VARIANTS = ("floor", "pg_plain", "pg_part", "sqlite_plain", "sqlite", "sqlite_wal")
DEFAULT_PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _timed(fn) -> dict[str, float]:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    fn()
    wall = time.perf_counter() - wall0
    return {"op": wall, "cpu": time.process_time() - cpu0}


def child(variant: str, size: str, url: str) -> None:
    from sqlalchemy import text

    from huizong import pipeline, warehouse
    from huizong.catalogue import load_catalogue
    from huizong.publish import warehouse as wh
    from huizong.registry import registry_for
    from huizong.sqlfiles import load_sql

    settings = nd.prepare(size)
    assert settings is not None
    settings = replace(settings, warehouse_url=url)
    registry, catalogue = registry_for(settings), load_catalogue(settings.form)
    day = nd.DAY
    tables = pipeline.day_tables(day, settings)
    changed = replace(tables, consolidated=tables.consolidated.copy())
    col = changed.consolidated.columns.get_loc("value")
    changed.consolidated.iloc[0, col] = (changed.consolidated.iloc[0, col] or 0) + 1
    out: dict[str, object] = {}
    if variant == "floor":
        loads = wh.day_frames(day, tables, registry, catalogue)
        with warehouse.engine(url) as engine, engine.begin() as conn:
            wh.ensure_schema(conn, catalogue)
        q = warehouse.quote_identifier

        def floor() -> None:
            with warehouse.engine(url) as engine, engine.begin() as conn:
                for table, frame in loads.items():
                    target = q(f"floor_{table}")
                    conn.exec_driver_sql(load_sql("bench/drop_table.sql").format(target=target))
                    create = load_sql("bench/create_unindexed_like.sql")
                    conn.exec_driver_sql(create.format(target=target, source=q(table)))
                    wh.copy_csv(conn, f"floor_{table}", frame)

        out["first"] = _timed(floor)
        out["rows"] = sum(len(f) for f in loads.values())
    else:
        if variant == "pg_plain":  # the schema as the code before partitions made it
            with warehouse.engine(url) as engine, engine.begin() as conn:
                for stmt in wh.schema_statements(catalogue):
                    conn.execute(text(stmt))
        with warehouse.engine(url) as engine, engine.begin() as conn:
            wh.ensure_schema(conn, catalogue)  # the schema exists before either is timed
        if variant == "sqlite_plain":
            wh._sqlite_bulk_pragmas = lambda conn: None
        if variant == "sqlite_wal":
            with warehouse.engine(url) as engine, engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode = WAL")
        planned: list[float] = []
        plan = wh._plan_version

        def timed_plan(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return plan(*args, **kwargs)
            finally:
                planned.append(time.perf_counter() - t0)

        wh._plan_version = timed_plan
        out["first"] = _timed(lambda: wh.publish_tables(url, day, tables, registry, catalogue))
        outcome: list[object] = []
        out["replace"] = _timed(
            lambda: outcome.append(wh.publish_tables(url, day, changed, registry, catalogue))
        )
        assert not outcome[0].unchanged and outcome[0].version == 2
        out["plan_replace"] = planned[-1]
        out["rows"] = sum(outcome[0].rows.values())
    out["rss"] = peak_rss_bytes()
    print(json.dumps(out))


def _admin(admin_url: str, sql_file: str, name: str) -> None:
    from huizong import warehouse
    from huizong.sqlfiles import load_sql

    stmt = load_sql(sql_file).format(name=warehouse.quote_identifier(name))
    with warehouse.engine(admin_url) as engine, engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(stmt)


def _measure(variant: str, size: str, admin_url: str) -> dict | None:
    from sqlalchemy.engine import make_url

    name = f"huizong_bench_pub_{variant}"
    if variant.startswith("sqlite"):
        path = nd.cache_root() / size / f"bench_{variant}.sqlite"
        for p in path.parent.glob(f"{path.name}*"):
            p.unlink()
        url = f"sqlite:///{path}"
    else:
        _admin(admin_url, "bench/drop_database.sql", name)
        _admin(admin_url, "bench/create_database.sql", name)
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    args = [sys.executable, __file__, "--child", variant, "--size", size, "--url", url]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if not variant.startswith("sqlite"):
        _admin(admin_url, "bench/drop_database.sql", name)
    if done.returncode != 0:
        print(f"  {size} {variant}: FAILED\n{done.stderr[-3000:]}", file=sys.stderr, flush=True)
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {size:8} {variant:12} {json.dumps(result)}", flush=True)
    return result


def _cell(step: dict | None, floor: float | None) -> str:
    if not step:
        return "– | – | –"
    share = step["cpu"] / step["op"] if step["op"] > 0 else 0.0
    ratio = f"{step['op'] / floor:.1f}×" if floor else "–"
    return f"{step['op']:.2f} s | {ratio} | {share:.0%}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="city,province")
    parser.add_argument(
        "--pg", default=os.environ.get("HUIZONG_TEST_PG_ADMIN_URL", DEFAULT_PG_ADMIN)
    )
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--child")
    parser.add_argument("--size")
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.size, args.url)
        return 0
    lines = [
        "| size | variant | rows | first publish | ratio | CPU | replace | ratio | CPU "
        "| of which versioning | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in args.sizes.split(","):
        got = {v: _measure(v, size, args.pg) for v in args.variants.split(",")}
        floor = got.get("floor")
        f = floor["first"]["op"] if floor else None
        for variant, r in got.items():
            if r is None:
                lines.append(f"| {size} | {variant} | failed | | | | | | | | |")
                continue
            plan = f"{r['plan_replace']:.2f} s" if "plan_replace" in r else "–"
            lines.append(
                f"| {size} | {variant} | {r['rows']:,} | {_cell(r['first'], f)} "
                f"| {_cell(r.get('replace'), f)} | {plan} | {r['rss'] / 2**30:.2f} GB |"
            )
    print("\n".join(lines))
    print(f"\nmachine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
