"""Benchmark the city workbooks of one synthetic national day against xlsxwriter's raw
write of the same cells, measured in the same run.

Usage: ``.venv/bin/python bench/bench_workbooks.py [DIVISIONS_FOLDER] [--cities N]``
(default: /work/shared/data/divisions, every city; ``--cities`` takes the first N).

The day is bench_rollup's synthetic national day, rolled up once outside the timer. For
each city, ``write_workbook`` writes its 综合表 (levels city → township, departments,
问题与建议, completeness, quarantine, 说明, formats and print setup). The floor writes
the same unit × indicator cells of the same sheets with xlsxwriter in constant_memory
mode and no formats, titles, merges or extra sheets. Reported: seconds for both, the
ratio, the CPU share (process CPU / wall: below 1 means waiting on the disk), and the
projection to every city of the day.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rollup import DAY, synthetic_day

from huizong.catalogue import load_catalogue
from huizong.publish.workbook import display_matrix, ordered_indicators, write_workbook
from huizong.registry import Registry, load_registry
from huizong.rollup import roll_up
from huizong.settings import Settings


def raw_write(path: Path, cons: pd.DataFrame, indicators) -> None:
    """The floor: the same cells, one sheet per level, nothing else."""
    wide = display_matrix(cons, indicators)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    levels = cons.drop_duplicates("unit_code").set_index("unit_code")["level"]
    for level in sorted(levels.unique()):
        ws = wb.add_worksheet(f"L{level}")
        codes = levels.index[levels == level]
        for r, (code, values) in enumerate(
            zip(codes, wide.reindex(codes).to_numpy(dtype=object).tolist(), strict=True)
        ):
            ws.write_string(r, 0, str(code))
            for c, v in enumerate(values, start=1):
                if isinstance(v, float) and not np.isnan(v):
                    ws.write_number(r, c, v)
                elif isinstance(v, str):
                    ws.write_string(r, c, v)
    wb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("divisions", nargs="?", default="/work/shared/data/divisions")
    parser.add_argument("--cities", type=int, default=0, help="only the first N cities")
    args = parser.parse_args()
    catalogue = load_catalogue()
    registry = load_registry(Path(args.divisions))
    result = roll_up(synthetic_day(registry.reporters), DAY, catalogue, registry, Settings())
    cons, comp = result.consolidated, result.completeness
    cities = sorted(cons.loc[cons["level"] == 2, "unit_code"].unique())
    total = len(cities)
    if args.cities:
        cities = cities[: args.cities]
    indicators = ordered_indicators(catalogue)
    empty_q = pd.DataFrame(columns=["file_name", "sheet", "row_number"])
    city_of = cons["unit_code"].str.slice(0, 4)
    comp_city = comp["unit_code"].str.slice(0, 4)
    by_city = {c: cons[(city_of == c) & (cons["level"] >= 2)] for c in cities}
    comp_by = {c: comp[(comp_city == c) & (comp["level"] >= 2)] for c in cities}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        w0, c0 = time.perf_counter(), time.process_time()
        for c in cities:
            raw_write(out / f"raw_{c}.xlsx", by_city[c], indicators)
        floor_wall, floor_cpu = time.perf_counter() - w0, time.process_time() - c0
        w0, c0 = time.perf_counter(), time.process_time()
        for c in cities:
            write_workbook(
                out / f"huizong_{c}.xlsx",
                DAY,
                consolidated=by_city[c],
                completeness=comp_by[c],
                quarantine=empty_q,
                catalogue=catalogue,
                registry=Registry(units=registry.units, root=c),
            )
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    n = len(cities)
    print(f"cities written: {n} of {total}")
    print(
        f"floor (raw xlsxwriter, same cells): {floor_wall:.2f} s wall, "
        f"CPU share {floor_cpu / floor_wall:.2f}"
    )
    print(f"workbooks (综合表 layout):          {wall:.2f} s wall, CPU share {cpu / wall:.2f}")
    print(f"ratio workbooks / floor: {wall / floor_wall:.2f}")
    print(f"projected for all {total} cities: {wall / n * total:.0f} s (goal <= 120 s)")


if __name__ == "__main__":
    main()
