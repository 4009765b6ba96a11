"""One unit's workbook on demand (what ``huizong report`` and the downloads page do),
against floors measured in the same run.

Usage: ``.venv/bin/python bench/bench_unit_workbook.py [--sizes city,province] [--repeat 3]``

The days are ``bench/national_day.py``'s (the demo day of the 沧州市 extract; province 13
cut from the national division codes, skipped without them), published once into the
size's own SQLite warehouse by ``run_day`` (kept in its home). The process is warm
as the api-server is: registry and catalogue loaded, imports done. For the root, its
largest county and that county's largest township, each run is

- ``load``: :func:`unit_report.load_unit_tables` (the subtree's rows only, the previous
  day, the villages' own rows for a county or township), and
- ``write``: :func:`unit_report.write_unit_workbook` (the 综合表 layout, split sheets,
  header and signature blocks, print setup),

beside two floors on the same data: ``read whole day`` (the ``consolidated`` and
``report`` tables of the day read whole, what the loader did before) and ``raw write``
(``bench_workbooks.raw_write``: xlsxwriter constant_memory writing the same unit ×
indicator cells, a sheet per level, nothing else). Reported: median wall and CPU
seconds of ``--repeat`` runs, the ratios to the floors, and the CPU share (CPU / wall:
well below 1 means the shared machine was busy, and the CPU seconds are what an idle
machine would take). The goal is load + write ≤ 2 s for any single workbook.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_workbooks import raw_write
from national_day import DAY, inbox_of, prepare

from huizong.catalogue import load_catalogue
from huizong.periods import period_of
from huizong.pipeline import run_day
from huizong.publish import unit_report
from huizong.publish.warehouse import read_table
from huizong.publish.workbook import ordered_indicators
from huizong.registry import registry_for
from huizong.settings import Settings
from huizong.warehouse import exists


def published(size: str) -> Settings | None:
    """The size's settings with its day published in its home's warehouse (once)."""
    settings = prepare(size)
    if settings is None:
        return None
    registry = registry_for(settings)
    if not exists(settings.warehouse) or not len(
        read_table(settings.warehouse, "completeness", DAY, units=[registry.root])
    ):
        started = time.perf_counter()
        run_day(DAY, settings, inbox_of(size))
        print(f"  published {size} in {time.perf_counter() - started:.0f} s", flush=True)
    return settings


def units_of(registry, root: str) -> list[tuple[str, str]]:
    """The root, its largest county and that county's largest township (by villages)."""
    u = registry.units
    villages = u[u["level"] == 5]
    county = villages["county_code"].value_counts().idxmax()
    town = villages.loc[villages["county_code"] == county, "township_code"].value_counts().idxmax()
    return [("root", root), ("county", str(county)), ("township", str(town))]


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds of ``repeat`` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def bench(size: str, repeat: int) -> None:
    settings = published(size)
    if settings is None:
        print(f"{size}: skipped, no national division codes")
        return
    catalogue, registry = load_catalogue(settings.form), registry_for(settings)
    indicators = ordered_indicators(catalogue)
    period = period_of(DAY, "day")
    url = settings.warehouse
    whole, _ = timed(
        lambda: (
            read_table(url, "consolidated", DAY),
            read_table(url, "report", DAY, catalogue=catalogue),
        ),
        repeat,
    )
    print(f"== {size}: {len(registry.reporters):,} reporters; floor read whole day {whole:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for role, unit in units_of(registry, registry.root):
            holder: dict[str, object] = {}

            def load(unit: str = unit, holder: dict = holder) -> None:
                holder["t"] = unit_report.load_unit_tables(url, unit, period, registry, catalogue)

            load_s, load_cpu = timed(load, repeat)
            tables = holder["t"]
            write_s, write_cpu = timed(
                lambda tables=tables, unit=unit: unit_report.write_unit_workbook(
                    out / f"{unit}.xlsx", tables, registry, catalogue, settings=settings
                ),
                repeat,
            )
            raw_s, _ = timed(
                lambda tables=tables, unit=unit: raw_write(
                    out / f"raw_{unit}.xlsx", tables.consolidated, indicators
                ),
                repeat,
            )
            rows = tables.consolidated["unit_code"].nunique()
            size_kb = (out / f"{unit}.xlsx").stat().st_size / 1024
            wall, cpu = load_s + write_s, load_cpu + write_cpu
            print(
                f"  {role:8} {unit:12} {rows:6,} rows, {size_kb:5,.0f} KiB: "
                f"load {load_s:.2f} s (whole-day read {whole:.2f} s: ratio {load_s / whole:.2f}), "
                f"write {write_s:.2f} s (raw write {raw_s:.2f} s: ratio {write_s / raw_s:.1f}); "
                f"total {wall:.2f} s wall, {cpu:.2f} s CPU (share {cpu / wall:.2f}; goal <= 2 s)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="city,province")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for size in args.sizes.split(","):
        bench(size.strip(), args.repeat)


if __name__ == "__main__":
    main()
