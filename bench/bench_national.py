"""The whole pipeline at city, province and nation size, each step against its floor.

``make bench-national``: generates the days once into a cache (``bench/national_day.py``;
province and nation need the national division codes at ``../shared/data/divisions`` and
are skipped with a message without them), then runs every step in its own process, as the
DAG's tasks do, and beside it the floor primitive of the same work on the same data, in
the same run:

| step | floor |
|---|---|
| ingest | calamine read of every workbook of the inbox |
| validate (both engines) | numpy masks: bounds of every numeric column, unit known, unique day |
| roll-up | polars, townships first, then counties/cities/provinces/nation from the townships |
| publish PostgreSQL | COPY of the same load frames into unindexed tables (LIKE) |
| workbook | xlsxwriter (constant_memory) writing the same consolidated values, one row per unit |
| periods | none: the week, 旬 and month brought up to date from the published day |

"op" is the step function alone (imports and process start excluded); peak RSS is the
process's; CPU share is CPU time / op time (below 100 % means the machine was busy).
This machine is shared: compare the ratios of one run, not seconds across runs.

"validate" is measured twice in the same run: with the default fast engine and with
``HUIZONG_VALIDATION_ENGINE=gx`` (Great Expectations running every check, the path before
the fast engine); "data docs" likewise with every row validated (before) and with the
failing rows plus a bounded sample (now). "of which validate_rows" is the engine's own
work (the step less reading the hand-over, waivers and quality checks, which both pay).

Usage: ``python bench/bench_national.py [--sizes city,province,nation] [--pg ADMIN_URL]
[--steps ingest,validate_gx,validate,data_docs]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import national_day as nd
from peak import peak_rss_bytes

STEPS = (
    "ingest",
    "validate_gx",
    "validate",
    "validate_rows_gx",
    "validate_rows",
    "rollup",
    "publish_sqlite",
    "publish_pg",
    "workbook",
    "periods",
    "data_docs_all",
    "data_docs",
    "run",
)
#: Steps measured for comparison only (the paths before the fast engine and the bounded
#: docs): left out of the "all steps" total.
COMPARED = ("validate_gx", "validate_rows_gx", "validate_rows", "data_docs_all", "run")
#: The floors of the steps from workbooks to published tables: the whole day's floor.
RUN_FLOORS = ("floor_calamine", "floor_masks", "floor_polars", "floor_copy")
FLOOR_OF = {
    "ingest": "floor_calamine",
    "validate_gx": "floor_masks",
    "validate": "floor_masks",
    "validate_rows_gx": "floor_masks",
    "validate_rows": "floor_masks",
    "rollup": "floor_polars",
    "publish_pg": "floor_copy",
    "workbook": "floor_xlsxwriter",
}
LABEL = {
    "ingest": "ingest",
    "validate_gx": "validate, GX engine (`HUIZONG_VALIDATION_ENGINE=gx`)",
    "validate": "validate, fast engine (default)",
    "validate_rows_gx": "of which `validate_rows`, GX engine",
    "validate_rows": "of which `validate_rows`, fast engine",
    "rollup": "roll-up",
    "publish_sqlite": "publish SQLite",
    "publish_pg": "publish PostgreSQL",
    "workbook": "workbook",
    "periods": "periods: week, 旬 and month from the published day (SQLite)",
    "data_docs_all": "data docs, every row validated (before)",
    "data_docs": "data docs, failures + bounded sample",
    "run": "whole day in one process: workbooks → published tables (SQLite)",
}
FLOOR_LABEL = {
    "floor_calamine": "calamine read",
    "floor_masks": "numpy masks",
    "floor_polars": "polars townships-first",
    "floor_copy": "COPY, unindexed",
    "floor_xlsxwriter": "xlsxwriter",
}
DEFAULT_PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


# ---- child: one step or floor, measured in its own process ---------------------------


def _settings(size: str, pg_url: str | None, step: str):
    from dataclasses import replace

    settings = nd.prepare(size)
    assert settings is not None
    if step in ("validate_gx", "validate_rows_gx"):  # Great Expectations runs every check
        settings = replace(settings, validation_engine="gx")
    if step in ("publish_pg", "floor_copy"):
        return replace(settings, warehouse_url=pg_url)
    if step == "run":  # a first publish of the day, into a warehouse of its own
        (settings.home / "run.sqlite").unlink(missing_ok=True)
        return replace(settings, warehouse_url=f"sqlite:///{settings.home / 'run.sqlite'}")
    return replace(settings, warehouse_url=f"sqlite:///{settings.home / 'warehouse.sqlite'}")


def _step(step: str, settings) -> Callable[[], object]:
    from huizong import pipeline

    day = nd.DAY
    if step == "ingest":
        return lambda: pipeline.ingest_day(day, settings, nd.inbox_of(settings.home.parent.name))
    if step in ("validate", "validate_gx"):
        return lambda: pipeline.validate_day(day, settings)
    if step in ("validate_rows", "validate_rows_gx"):
        return _validate_rows(settings)
    if step == "rollup":
        return lambda: pipeline.rollup_day(day, settings)
    if step in ("publish_sqlite", "publish_pg"):
        return lambda: pipeline.publish_day(day, settings)
    if step == "workbook":
        return lambda: pipeline.workbook_day(day, settings)
    if step == "periods":  # reads the day publish_sqlite published
        return lambda: pipeline.periods_day(day, settings)
    if step == "run":
        return lambda: _whole_day(settings)
    if step in ("data_docs", "data_docs_all"):
        from huizong.validate import datadocs
        from huizong.validate.datadocs import data_docs_day

        if step == "data_docs_all":  # as before the bounded docs: GX validates every row
            datadocs.DOCS_ALL_ROWS = 10**12

        return lambda: data_docs_day(day, settings)
    return FLOORS[step](settings)


def _whole_day(settings) -> dict:
    """The issue's goal as one measurement: ingest (late files routed) → validate →
    roll-up → publish in one process, as ``huizong run`` does before its workbook,
    periods and Data Docs."""
    from huizong import handover, pipeline

    day, inbox = nd.DAY, nd.inbox_of(settings.home.parent.name)
    handover.clear_step_files(settings, day)
    pipeline.ingest_day(day, settings, inbox)
    pipeline.validate_day(day, settings)
    pipeline.rollup_day(day, settings)
    return pipeline.publish_day(day, settings)


def _validate_rows(settings) -> Callable[[], object]:
    """The engine's own work: ``validate_rows`` on the day's RECEIVED, read beforehand
    (as the floor reads it), without the step's hand-over, waivers and quality checks."""
    import pandas as pd

    from huizong import frames
    from huizong.catalogue import load_catalogue
    from huizong.registry import registry_for
    from huizong.validate import validate_rows

    catalogue = load_catalogue(settings.form)
    registry = registry_for(settings)
    received = pd.read_parquet(settings.run_dir(nd.DAY) / frames.RECEIVED)
    if settings.validation_engine == "gx":  # GX's import, as the fast engine pays none
        from huizong.validate.suites import import_gx

        import_gx()
    return lambda: validate_rows(received, nd.DAY, catalogue, registry, settings)


def floor_calamine(settings) -> Callable[[], object]:
    from python_calamine import CalamineWorkbook

    files = sorted(
        p for p in nd.inbox_of(settings.home.parent.name).iterdir() if p.suffix == ".xlsx"
    )

    def run() -> int:
        cells = 0
        for path in files:
            book = CalamineWorkbook.from_path(str(path))
            for name in book.sheet_names:
                cells += sum(len(r) for r in book.get_sheet_by_name(name).to_python())
        return cells

    return run


def floor_masks(settings) -> Callable[[], object]:
    import numpy as np
    import pandas as pd

    from huizong import frames
    from huizong.catalogue import load_catalogue
    from huizong.registry import registry_for

    catalogue = load_catalogue(settings.form)
    received = pd.read_parquet(settings.run_dir(nd.DAY) / frames.RECEIVED)
    values = {
        i.code: pd.to_numeric(received[i.code], errors="coerce")
        .fillna(0)
        .astype("int64")
        .to_numpy()
        for i in catalogue.numeric
        if i.code in received
    }
    units = received["unit_code"].astype("str")
    known = pd.Index(registry_for(settings).units["code"].astype("str"))

    def run() -> int:
        bad = np.zeros(len(received), dtype=bool)
        for column in values.values():
            bad |= column < 0
            bad |= column > 100_000_000
        bad |= ~units.isin(known).to_numpy()
        bad |= units.duplicated(keep=False).to_numpy()
        return int(bad.sum())

    return run


def floor_polars(settings) -> Callable[[], object]:
    import polars as pl

    from huizong import frames
    from huizong.catalogue import load_catalogue

    codes = [i.code for i in load_catalogue(settings.form).numeric]
    accepted = pl.read_parquet(settings.run_dir(nd.DAY) / frames.ACCEPTED)
    villages = accepted.filter(pl.col("unit_code").str.len_chars() == 12).select(
        "unit_code", *[pl.col(c).cast(pl.Int64) for c in codes if c in accepted.columns]
    )
    cols = [c for c in codes if c in villages.columns]

    def run() -> int:
        level = villages.group_by(pl.col("unit_code").str.slice(0, 9)).agg(pl.col(cols).sum())
        out = [level]
        for length in (6, 4, 2):
            level = level.group_by(pl.col("unit_code").str.slice(0, length)).agg(pl.col(cols).sum())
            out.append(level)
        out.append(level.select(pl.col(cols).sum()))
        return sum(len(f) for f in out)

    return run


def floor_copy(settings) -> Callable[[], object]:
    from huizong import pipeline, warehouse
    from huizong.catalogue import load_catalogue
    from huizong.publish.warehouse import copy_csv, day_frames
    from huizong.registry import registry_for
    from huizong.sqlfiles import load_sql

    loads = day_frames(
        nd.DAY, pipeline.day_tables(nd.DAY, settings), registry_for(settings), load_catalogue()
    )
    q = warehouse.quote_identifier

    def run() -> int:
        with warehouse.engine(settings) as engine, engine.begin() as conn:
            for table, frame in loads.items():
                target = f"floor_{table}"
                conn.exec_driver_sql(load_sql("bench/drop_table.sql").format(target=q(target)))
                create = load_sql("bench/create_unindexed_like.sql")
                conn.exec_driver_sql(create.format(target=q(target), source=q(table)))
                copy_csv(conn, target, frame)
        return sum(len(f) for f in loads.values())

    return run


def floor_xlsxwriter(settings) -> Callable[[], object]:
    import pandas as pd
    import xlsxwriter

    from huizong import frames

    consolidated = pd.read_parquet(settings.run_dir(nd.DAY) / frames.CONSOLIDATED)
    wide = consolidated.pivot_table(
        index=["unit_code", "unit_name"], columns="indicator", values="value", aggfunc="first"
    ).reset_index()
    rows = [[None if pd.isna(v) else v for v in row] for row in wide.itertuples(index=False)]
    header = [str(c) for c in wide.columns]
    target = settings.home / "floor.xlsx"

    def run() -> int:
        book = xlsxwriter.Workbook(str(target), {"constant_memory": True})
        sheet = book.add_worksheet("floor")
        sheet.write_row(0, 0, header)
        for r, row in enumerate(rows, start=1):
            sheet.write_row(r, 0, row)
        book.close()
        return len(rows)

    return run


FLOORS = {
    "floor_calamine": floor_calamine,
    "floor_masks": floor_masks,
    "floor_polars": floor_polars,
    "floor_copy": floor_copy,
    "floor_xlsxwriter": floor_xlsxwriter,
}


def child(step: str, size: str, pg_url: str | None) -> None:
    settings = _settings(size, pg_url, step)
    run = _step(step, settings)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    run()
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    rss = peak_rss_bytes()
    print(json.dumps({"op": wall, "cpu": cpu, "rss": rss}))


# ---- parent: sizes × steps, then one table ---------------------------------------------


def _measure(step: str, size: str, pg_url: str | None) -> dict | None:
    args = [sys.executable, __file__, "--child", step, "--size", size]
    if pg_url:
        args += ["--pg-db", pg_url]
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        print(f"  {size} {step}: FAILED\n{done.stderr[-2000:]}", file=sys.stderr, flush=True)
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    share = result["cpu"] / result["op"] if result["op"] > 0 else 0.0
    print(
        f"  {size:8} {step:16} {result['op']:8.2f} s  {result['rss'] / 2**30:5.2f} GB"
        f"  cpu {share:4.0%}",
        flush=True,
    )
    # kept as it comes: a run stopped half-way still leaves every finished measurement
    with (nd.cache_root() / "measurements.jsonl").open("a", encoding="utf-8") as log:
        log.write(json.dumps({"size": size, "step": step, **result}) + "\n")
    return result


def _pg_database(admin_url: str, size: str) -> str | None:
    """A fresh benchmark database on the server (None: no server reachable)."""
    from sqlalchemy.engine import make_url

    name = f"huizong_bench_{size}"
    try:
        _admin(admin_url, "bench/drop_database.sql", name)
        _admin(admin_url, "bench/create_database.sql", name)
    except Exception as exc:  # a missing server is reported, not fatal
        print(f"  PostgreSQL not reachable at {admin_url}: {exc}; PostgreSQL rows skipped")
        return None
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _admin(admin_url: str, sql_file: str, name: str) -> None:
    """CREATE/DROP DATABASE (outside a transaction) for a name of our own."""
    from huizong import warehouse
    from huizong.sqlfiles import load_sql

    stmt = load_sql(sql_file).format(name=warehouse.quote_identifier(name))
    with warehouse.engine(admin_url) as engine, engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(stmt)


def _drop_pg(admin_url: str, size: str) -> None:
    _admin(admin_url, "bench/drop_database.sql", f"huizong_bench_{size}")


def _fresh_home(settings) -> None:
    """Keep the registry; remove the outputs of an earlier benchmark run."""
    for name in ("runs", "out", "data_docs", "store", "warehouse.sqlite", "locks"):
        path = settings.home / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _row(label: str, size: str, step: dict | None, floor_label: str, floor: dict | None) -> str:
    """Wall and CPU ratios: on a shared machine the CPU-time ratio is the one to read."""
    if step is None:
        return f"| {label} | {size} | failed | | | | | | | |"
    has_floor = bool(floor and floor["op"] > 0)
    ratio = f"{step['op'] / floor['op']:.1f}×" if has_floor else "–"
    cpu_ratio = f"{step['cpu'] / floor['cpu']:.1f}×" if has_floor and floor.get("cpu") else "–"
    floor_s = f"{floor['op']:.2f} s" if floor else "–"
    share = f"{step['cpu'] / step['op']:.0%}" if step["op"] > 0 else "–"
    return (
        f"| {label} | {size} | {step['op']:.2f} s | {step['cpu']:.2f} s | {floor_label or '–'} "
        f"| {floor_s} | {ratio} | {cpu_ratio} | {step['rss'] / 2**30:.2f} GB | {share} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(nd.SIZES))
    parser.add_argument(
        "--pg", default=os.environ.get("HUIZONG_TEST_PG_ADMIN_URL", DEFAULT_PG_ADMIN)
    )
    parser.add_argument(
        "--steps",
        default=",".join(STEPS),
        help="a subset of the steps, in pipeline order (a step reads the one before's output)",
    )
    parser.add_argument("--child")
    parser.add_argument("--size")
    parser.add_argument("--pg-db")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.size, args.pg_db)
        return 0

    lines, results = [], {}
    for size in args.sizes.split(","):
        settings = nd.prepare(size)
        if settings is None:
            print(f"{size}: skipped, no national division codes at {nd.national_divisions()}")
            continue
        _fresh_home(settings)
        pg_db = _pg_database(args.pg, size)
        files = sum(1 for _ in nd.inbox_of(size).iterdir())
        print(f"== {size}: {files} files", flush=True)
        measured: dict[str, dict | None] = {}
        chosen = args.steps.split(",")
        for step in (s for s in STEPS if s in chosen):
            if step in ("publish_pg",) and pg_db is None:
                continue
            measured[step] = _measure(step, size, pg_db)
            floor = FLOOR_OF.get(step)
            if floor and floor not in measured and measured[step] is not None:
                measured[floor] = _measure(floor, size, pg_db)
        if pg_db:
            _drop_pg(args.pg, size)
        results[size] = {"files": files, **measured}
        for step in STEPS:
            if step in measured and step != "run":
                floor = FLOOR_OF.get(step, "")
                lines.append(
                    (
                        step,
                        _row(
                            LABEL[step],
                            f"{size} ({files} files)",
                            measured[step],
                            FLOOR_LABEL.get(floor, ""),
                            measured.get(floor),
                        ),
                    )
                )
        floors_run = [measured.get(f) for f in RUN_FLOORS]
        if measured.get("run") and all(floors_run):
            lines.append(
                (
                    "run",
                    _row(
                        LABEL["run"],
                        f"{size} ({files} files)",
                        measured["run"],
                        "sum of the four floors",
                        {k: sum(f[k] for f in floors_run) for k in ("op", "cpu")},
                    ),
                )
            )
        total = sum(m["op"] for s, m in measured.items() if s in STEPS and s not in COMPARED and m)
        floors = sum(m["op"] for s, m in measured.items() if s.startswith("floor_") and m)
        lines.append(
            (
                "total",
                f"| all steps | {size} | {total:.1f} s | | sum of floors | "
                f"{floors:.1f} s | {total / floors:.1f}× | | | |"
                if floors
                else "",
            )
        )

    order = {s: i for i, s in enumerate((*STEPS, "total"))}
    table = [
        "| step | size | op | CPU | floor | floor op | ratio | ratio (CPU) | peak RSS "
        "| CPU share |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *(line for _, line in sorted(lines, key=lambda x: order[x[0]])),
    ]
    machine = (
        f"{platform.node()}: {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    print()
    print("\n".join(table))
    print(f"\nmachine: {machine}")
    out = nd.cache_root() / "results.json"
    out.write_text(json.dumps({"machine": machine, "results": results}, indent=1))
    (nd.cache_root() / "results.md").write_text("\n".join(table) + f"\n\nmachine: {machine}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
