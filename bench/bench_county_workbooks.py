"""What writing every county's workbook each night would cost on the demo city (沧州市,
19 counties, 209 townships, 6,094 villages), against what the night writes today (the
root's workbook) and against xlsxwriter's raw write of the same cells, same run.

Usage: ``.venv/bin/python bench/bench_county_workbooks.py [--repeat N]``

The demo day is generated and published once, outside the timers. Then, each timed
``--repeat`` times (median reported):

* ``root``: the night's ``workbook`` step (the city's 综合表 from the run files);
* ``counties``: every county's 综合表 exactly as 汇总下载 and ``huizong report`` make it
  (``unit_report.load_unit_tables`` from the warehouse, then ``write_unit_workbook``),
  one after another;
* ``floor``: the counties' unit × indicator cells (villages included) written raw with
  xlsxwriter in constant_memory mode (``bench_workbooks.raw_write``).

Printed: seconds, CPU share (process CPU / wall), and the ratios counties / root and
counties / floor. The README's downloads section states the decision taken from them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_workbooks import raw_write

from huizong.catalogue import load_catalogue
from huizong.demo import generate_demo_day
from huizong.periods import period_of
from huizong.pipeline import registry_for, run_day, workbook_day
from huizong.publish import unit_report
from huizong.publish.workbook import ordered_indicators
from huizong.settings import Settings

DAY = date(2020, 1, 28)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall seconds and the CPU share of the median run."""
    runs = []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        runs.append((time.perf_counter() - w0, time.process_time() - c0))
    wall, cpu = sorted(runs)[len(runs) // 2]
    return wall, cpu / wall if wall else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "var"
        settings = Settings(home=home, warehouse_url=f"sqlite:///{home / 'warehouse.sqlite'}")
        inbox = home / "inbox" / DAY.isoformat()
        generate_demo_day(DAY, inbox)
        run_day(DAY, settings, inbox)
        catalogue = load_catalogue(settings.form)
        registry = registry_for(settings)
        units = registry.units
        counties = sorted(units.loc[units["kind"] == "county", "code"].astype(str))
        period = period_of(DAY, "day")
        out = Path(tmp) / "out"
        out.mkdir()
        tables = {}

        def counties_write() -> None:
            for code in counties:
                t = unit_report.load_unit_tables(
                    settings.warehouse, code, period, registry, catalogue
                )
                tables[code] = t
                unit_report.write_unit_workbook(out / f"{code}.xlsx", t, registry, catalogue)

        indicators = ordered_indicators(catalogue)

        def floor_write() -> None:
            for code, t in tables.items():
                raw_write(out / f"raw_{code}.xlsx", t.consolidated, indicators)

        root = timed(lambda: workbook_day(DAY, settings), args.repeat)
        every = timed(counties_write, args.repeat)
        floor = timed(floor_write, args.repeat)
        rows = sum(len(t.consolidated) for t in tables.values())
    print(f"demo city {registry.root}: {len(counties)} counties, {rows:,} unit x indicator cells")
    for name, (wall, share) in (("root", root), ("counties", every), ("floor", floor)):
        print(f"  {name:9s} {wall:7.2f} s   CPU share {share:.2f}")
    print(f"  counties / root  {every[0] / root[0]:.2f}x")
    print(f"  counties / floor {every[0] / floor[0]:.2f}x")
    print(f"  per county       {every[0] / len(counties):.3f} s")


if __name__ == "__main__":
    main()
