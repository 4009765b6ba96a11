"""The night's periods step (week, 旬 and month brought up to date) after several published
days, not only the first: its time and peak RSS grow with the days a period holds.

Setup (untimed): ``bench_late``'s published version 1 of the size (its cache; published
once there when absent) is copied, and its ``report`` and ``completeness`` rows are
published again as the ``--days``−1 days before it, so the month, 旬 and week of the
bench day hold that many published days. Timed, each in its own process:

* ``periods``: :func:`huizong.pipeline.periods_day` of the bench day (what the night's
  ``periods`` task runs), peak RSS = the process's ``VmHWM``;
* floor: fetching the same days' ``report`` rows from SQLite and dropping them (the one
  thing the step cannot skip: reading every day once).

    .venv/bin/python bench/bench_periods_days.py [--size nation] [--days 7]
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_late as bl
import national_day as nd

from huizong import pipeline as p
from huizong.catalogue import load_catalogue
from huizong.periods import periods_containing
from huizong.publish import warehouse as wh
from huizong.settings import Settings
from huizong.sqlfiles import load_sql

DAY = nd.DAY


def _earlier_days(settings: Settings, days: int) -> None:
    """The bench day's report and completeness rows published again as earlier days."""
    catalogue = load_catalogue(settings.form)
    url = settings.warehouse
    for table in ("report", "completeness"):
        rows = wh.read_day_range(url, table, DAY, DAY, catalogue=catalogue)
        spec = wh.report_spec(catalogue) if table == "report" else wh.SPECS[table]
        with wh._engine(url) as engine, engine.begin() as conn:
            for back in range(1, days):
                day = DAY - timedelta(days=back)
                again = rows.assign(period=day.isoformat())
                wh._bulk(conn, table, wh.load_frame(table, again, day, spec))
        del rows


def _child(home: str, what: str) -> dict[str, float]:
    settings = Settings(
        home=Path(home),
        inbox_root=Path(home).parent / "inbox",
        warehouse_url=f"sqlite:///{Path(home) / 'warehouse.sqlite'}",
    )
    wall, cpu = time.perf_counter(), time.process_time()
    if what == "periods":
        p.periods_day(DAY, settings)
    else:  # the floor: the columns the step reduces, of every day it reads, fetched once
        first = min(period.start for period in periods_containing(DAY))
        catalogue = load_catalogue(settings.form)
        names = ["period", "unit_code", "unit_name", "received_at", "not_applicable"]
        columns = ", ".join(f'"{c}"' for c in [*names, *(i.code for i in catalogue.indicators)])
        con = sqlite3.connect(Path(home) / "warehouse.sqlite")
        cur = con.execute(
            load_sql("periods/select_day_range.sql").format(columns=columns, table="report"),
            {"start": first.isoformat(), "end": DAY.isoformat()},
        )
        while cur.fetchmany(50_000):
            pass
        con.close()
    return {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }


def _measure(home: Path, what: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(home), what],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="nation")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-periods-", dir=nd.cache_root()) as tmp:
        settings = bl.published_home(args.size, Path(tmp), fresh=False)
        if settings is None:
            print(f"{args.size}: skipped (no national division codes)")
            return 0
        w0 = time.perf_counter()
        _earlier_days(settings, args.days)
        print(
            f"{args.size}: {args.days} published days in {time.perf_counter() - w0:.1f} s (setup)"
        )
        floor = _measure(settings.home, "floor")
        step = _measure(settings.home, "periods")
    print("\n| size | days | step | wall | CPU | CPU share | peak RSS | ratio to floor (CPU) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, m in (("periods", step), ("floor: fetch the days' report rows", floor)):
        ratio = step["cpu"] / floor["cpu"] if floor["cpu"] else float("nan")
        print(
            f"| {args.size} | {args.days} | {name} | {m['wall']:.1f} s | {m['cpu']:.1f} s "
            f"| {m['cpu'] / m['wall']:.2f} | {m['peak_gb']:.2f} GB "
            f"| {ratio if name == 'periods' else 1:.1f}× |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
