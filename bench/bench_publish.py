"""Bulk-load paths for the warehouse, timed in one run and reported as ratios.

National scale: 44,704 aggregated units x 42 indicators = 1,877,568 ``consolidated`` rows.
Timed (each into the real ``consolidated`` table, inside one transaction, commit included):

- PostgreSQL COPY of a CSV buffer written by pyarrow (what ``publish_tables`` does)
- PostgreSQL COPY of a CSV buffer written by pandas ``to_csv``
- PostgreSQL COPY with psycopg ``write_row``
- PostgreSQL SQLAlchemy executemany (``conn.execute(table.insert(), dicts)``)
- PostgreSQL ``DataFrame.to_sql`` (default method)
- SQLite raw ``cursor.executemany`` (what ``publish_tables`` does)
- SQLite SQLAlchemy executemany, SQLite ``to_sql``

The slow paths run on ``--sample`` rows and are scaled to the full count (labelled).

    .venv/bin/python bench/bench_publish.py [--rows 1877568] [--sample 200000]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, MetaData, Table, create_engine, text
from sqlalchemy.pool import NullPool

from huizong.catalogue import load_catalogue
from huizong.publish import warehouse as wh

DAY = date(2026, 11, 26)


def consolidated(rows: int) -> pd.DataFrame:
    cat = load_catalogue()
    codes = np.array(cat.codes)
    n_units = -(-rows // len(codes))
    rng = np.random.default_rng(1)
    unit = np.repeat(np.arange(n_units), len(codes))[:rows]
    ind = np.tile(codes, n_units)[:rows]
    status = rng.choice(
        np.array(["reported", "not_reported", "not_applicable"]), rows, p=[0.8, 0.15, 0.05]
    )
    value = rng.integers(0, 10**7, rows).astype("float64")
    value[status != "reported"] = np.nan
    text_mask = np.isin(ind, [i.code for i in cat.text])
    value[text_mask] = np.nan
    frame = pd.DataFrame(
        {
            "period": DAY.isoformat(),
            "unit_code": pd.array([f"{130000000 + u:09d}" for u in range(n_units)], dtype="str")[
                unit
            ],
            "unit_name": "某某街道",
            "level": 4,
            "kind": "township",
            "parent_code": "130903",
            "indicator": ind,
            "value": value,
            "value_text": np.where(text_mask & (status == "reported"), "甲村: 口罩紧缺", None),
            "status": status,
            "reporting_units": rng.integers(0, 30, rows),
            "expected_units": 30,
        }
    )
    return wh.load_frame("consolidated", frame, DAY, wh.SPECS["consolidated"])


def timed(
    label: str,
    url: str,
    frame: pd.DataFrame,
    load: Callable[[Connection, pd.DataFrame], None],
    scale: float,
) -> float:
    with wh._engine(url) as engine:
        with engine.begin() as conn:
            wh.ensure_schema(conn, load_catalogue())
            conn.execute(text("DELETE FROM consolidated"))
        start = time.perf_counter()
        with engine.begin() as conn:
            load(conn, frame)
        seconds = (time.perf_counter() - start) * scale
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM consolidated")).scalar_one()
    assert count == len(frame), (label, count, len(frame))
    note = f"  (measured on {len(frame):,} rows, scaled x{scale:.1f})" if scale != 1 else ""
    print(f"{label:<38} {seconds:8.2f} s{note}", flush=True)
    return seconds


def copy_pandas_csv(conn: Connection, frame: pd.DataFrame) -> None:
    """COPY from pandas.to_csv buffers (NULL marker \\N, since to_csv cannot quote "")."""
    stmt = wh._copy_sql("consolidated", list(frame.columns)) + " WITH (NULL '\\N')"
    stmt = stmt.replace("(FORMAT csv) WITH (NULL '\\N')", "(FORMAT csv, NULL '\\N')")
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(stmt) as copy:
        for start in range(0, len(frame), 200_000):
            buf = io.StringIO()
            frame.iloc[start : start + 200_000].to_csv(buf, header=False, index=False, na_rep="\\N")
            copy.write(buf.getvalue())


def sa_executemany(conn: Connection, frame: pd.DataFrame) -> None:
    table = Table("consolidated", MetaData(), autoload_with=conn)
    records = frame.assign(period=DAY).astype(object).where(frame.notna(), None)
    conn.execute(table.insert(), records.to_dict("records"))


def to_sql(conn: Connection, frame: pd.DataFrame) -> None:
    frame.assign(period=DAY).to_sql("consolidated", conn, if_exists="append", index=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=44_704 * 42)
    ap.add_argument("--sample", type=int, default=200_000)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()

    full = consolidated(args.rows)
    sample = full.iloc[: min(args.sample, len(full))]
    scale = len(full) / len(sample)
    print(f"consolidated rows: {len(full):,}; slow paths on {len(sample):,}")

    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"huizong_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    pg = admin.url.set(database=name).render_as_string(hide_password=False)
    results: dict[str, float] = {}
    try:
        results["pg COPY pyarrow csv buffer (used)"] = timed(
            "pg COPY pyarrow csv buffer (used)",
            pg,
            full,
            lambda c, f: wh.copy_csv(c, "consolidated", f),
            1,
        )
        results["pg COPY pandas to_csv buffer"] = timed(
            "pg COPY pandas to_csv buffer", pg, full, copy_pandas_csv, 1
        )
        results["pg COPY write_row"] = timed(
            "pg COPY write_row", pg, full, lambda c, f: wh.copy_rows(c, "consolidated", f), 1
        )
        results["pg SQLAlchemy executemany"] = timed(
            "pg SQLAlchemy executemany", pg, sample, sa_executemany, scale
        )
        results["pg pandas to_sql"] = timed("pg pandas to_sql", pg, sample, to_sql, scale)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    with tempfile.TemporaryDirectory() as tmp:
        lite = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        results["sqlite raw executemany (used)"] = timed(
            "sqlite raw executemany (used)",
            lite,
            full,
            lambda c, f: wh.insert_many(c, "consolidated", f),
            1,
        )
        results["sqlite SQLAlchemy executemany"] = timed(
            "sqlite SQLAlchemy executemany", lite, sample, sa_executemany, scale
        )
        results["sqlite pandas to_sql"] = timed("sqlite pandas to_sql", lite, sample, to_sql, scale)

    pg_floor = results["pg pandas to_sql"]
    lite_floor = results["sqlite pandas to_sql"]
    print("\nratio = pandas to_sql time / method time (same dialect; higher is faster)")
    for label, seconds in results.items():
        ref = pg_floor if label.startswith("pg") else lite_floor
        print(f"{label:<38} {ref / seconds:6.1f}x")


if __name__ == "__main__":
    main()
