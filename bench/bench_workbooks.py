"""Benchmark the city workbooks of one synthetic national day against xlsxwriter's raw
write of the same cells, measured in the same run.

Usage: ``.venv/bin/python bench/bench_workbooks.py [DIVISIONS_FOLDER] [--cities N]
[--before REV] [--workers N]`` (default: /work/shared/data/divisions, every city;
``--cities`` takes the first N).

The day is bench_rollup's synthetic national day, rolled up once outside the timer. For
each city, ``write_workbook`` writes its 综合表 (levels city → township, departments,
问题与建议, completeness, quarantine, 说明, formats and print setup). The floor writes
the same unit × indicator cells of the same sheets with xlsxwriter in constant_memory
mode and no formats, titles, merges or extra sheets. With ``--before REV`` the
``write_workbook`` of git revision REV (its ``publish/workbook.py``, loaded beside this
checkout's) writes the same cities too. Floor, before and now are interleaved city by
city, so a load that changes during the run touches all three alike.

Reported: per city, wall and CPU seconds of each; the ratio to the floor; the CPU share
(process CPU / wall: below 1 means the shared machine gave the run less than a core); and
the projection to every city of the day, in wall time and in CPU time (what one free core
would take). ``--workers N`` (N > 1) also writes the cities with a pool of N processes
and reports its wall time and the workers' CPU time.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import ModuleType

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

ROOT = Path(__file__).resolve().parents[1]
#: One national day's city frames, set before a pool forks (its workers inherit them).
_JOB: dict[str, object] = {}


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


def _before_module(rev: str, folder: Path) -> ModuleType:
    """``huizong/publish/workbook.py`` of ``rev``, importing this checkout's other modules."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:src/huizong/publish/workbook.py"],
        capture_output=True,
        check=True,
    ).stdout
    path = folder / "workbook_before.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("workbook_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _city_writer(write: Callable[..., Path], city: str, out: Path) -> Callable[[], object]:
    job = _JOB

    def run() -> object:
        return write(
            out / f"{write.__module__}_{city}.xlsx",
            DAY,
            consolidated=job["cons"][city],  # type: ignore[index]
            completeness=job["comp"][city],  # type: ignore[index]
            quarantine=job["quarantine"],
            catalogue=job["catalogue"],
            registry=Registry(units=job["units"], root=city),  # type: ignore[arg-type]
        )

    return run


def _pool_task(args: tuple[str, str]) -> float:
    """A pool worker writes one city (the frames come from the forked parent)."""
    city, out = args
    _city_writer(write_workbook, city, Path(out))()
    return time.process_time()


def _timed(run: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("divisions", nargs="?", default="/work/shared/data/divisions")
    parser.add_argument("--cities", type=int, default=0, help="only the first N cities")
    parser.add_argument("--before", help="a git revision whose write_workbook to measure too")
    parser.add_argument("--workers", type=int, default=0, help="also write with N processes")
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
    city_of = cons["unit_code"].str.slice(0, 4)
    comp_city = comp["unit_code"].str.slice(0, 4)
    _JOB.update(
        cons={c: cons[(city_of == c) & (cons["level"] >= 2)] for c in cities},
        comp={c: comp[(comp_city == c) & (comp["level"] >= 2)] for c in cities},
        quarantine=pd.DataFrame(columns=["file_name", "sheet", "row_number"]),
        catalogue=catalogue,
        units=registry.units,
    )
    kinds = ["floor", *(["before"] if args.before else []), "now"]
    times = {k: [0.0, 0.0] for k in kinds}
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        before = _before_module(args.before, out) if args.before else None
        for c in cities:  # interleaved: the three see the same load
            runs = {
                "floor": lambda c=c: raw_write(out / f"raw_{c}.xlsx", _JOB["cons"][c], indicators),
                "now": _city_writer(write_workbook, c, out),
            }
            if before is not None:
                runs["before"] = _city_writer(before.write_workbook, c, out)
            for kind in kinds:
                wall, cpu = _timed(runs[kind])
                times[kind][0] += wall
                times[kind][1] += cpu
        pool = None
        if args.workers > 1:
            children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall0 = time.perf_counter()
            with ProcessPoolExecutor(args.workers) as executor:
                list(executor.map(_pool_task, [(c, tmp) for c in cities]))
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            pool_cpu = (children.ru_utime - children0.ru_utime) + (
                children.ru_stime - children0.ru_stime
            )
            pool = (time.perf_counter() - wall0, pool_cpu)
    n = len(cities)
    floor_wall = times["floor"][0]
    print(f"cities written: {n} of {total}; load average {load0:.1f} at the start")
    print(
        "| write | per city wall | per city CPU | ratio to floor (wall) | CPU share "
        f"| projected {total} cities, wall | projected, CPU (one free core) |"
    )
    print("|---|---|---|---|---|---|---|")
    labels = {"floor": "floor (raw xlsxwriter)", "before": f"before ({args.before})", "now": "now"}
    for kind in kinds:
        wall, cpu = times[kind]
        print(
            f"| {labels[kind]} | {wall / n:.3f} s | {cpu / n:.3f} s | {wall / floor_wall:.2f} "
            f"| {cpu / wall:.2f} | {wall / n * total:.0f} s | {cpu / n * total:.0f} s |"
        )
    if pool is not None:
        wall, cpu = pool
        print(
            f"| now, {args.workers} processes | {wall / n:.3f} s | {cpu / n:.3f} s "
            f"| {wall / floor_wall:.2f} | {cpu / wall:.2f} (of {args.workers}) "
            f"| {wall / n * total:.0f} s | {cpu / n * total:.0f} s |"
        )
    print(f"goal: all {total} cities <= 120 s")


if __name__ == "__main__":
    main()
