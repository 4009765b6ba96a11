"""Benchmark the roll-up on one synthetic national day against a same-run pandas floor.

Usage: ``.venv/bin/python bench/bench_rollup.py [DIVISIONS_FOLDER] [--repeat N]``
(default folder: /work/shared/data/divisions, the full 2022 national division codes).

The day: every village/community and configured department reports with probability
0.95, 40 Int64 indicators (15% blank, some marked 不适用), 2 short texts (3% filled),
arrivals spread around the deadline. Times are medians of ``--repeat`` runs in this
process; machines vary by 20-30%, so read the ratios, not the seconds.

Baseline ("floor"): plain pandas per-level groupby sum of the 40 numeric columns over
the village rows (int64, ancestor keys as int64 precomputed outside the timer), for
townships, counties, cities, provinces and the nation. It computes far less than the
roll-up (no counts, statuses, mean/max/min, departments, texts, completeness, missing
lists or the long frame), so a ratio near 1 is the goal, not below.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from huizong.catalogue import load_catalogue
from huizong.registry import load_registry
from huizong.rollup import roll_up
from huizong.settings import Settings

DAY = date(2020, 1, 28)


def synthetic_day(reporters: pd.DataFrame, seed: int = 2020) -> pd.DataFrame:
    catalogue = load_catalogue()
    rng = np.random.default_rng(seed)
    rows = reporters[rng.random(len(reporters)) < 0.95]
    n = len(rows)
    acc = pd.DataFrame(
        {
            "unit_code": rows["code"].astype("str").to_numpy(),
            "period": DAY.isoformat(),
            "received_at": pd.Timestamp("2020-01-28 04:00", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 18 * 60, n), unit="min"),
            "not_applicable": np.where(rng.random(n) < 0.02, "risk_level,problems", ""),
        }
    )
    for ind in catalogue.numeric:
        values = pd.array(rng.integers(0, 1000, n), dtype="Int64")
        values[rng.random(n) < 0.15] = pd.NA
        acc[ind.code] = values
    for ind in catalogue.text:
        acc[ind.code] = pd.Series(np.where(rng.random(n) < 0.03, "缺口罩", None), dtype="str")
    return acc.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def floor_inputs(acc: pd.DataFrame) -> pd.DataFrame:
    """Village rows as int64 with int64 ancestor keys (prepared outside the timer)."""
    codes = load_catalogue().numeric
    village = acc[acc["unit_code"].str.len() == 12]
    frame = pd.DataFrame({i.code: village[i.code].fillna(0).astype("int64") for i in codes})
    code = village["unit_code"]
    for name, length in (("township", 9), ("county", 6), ("city", 4), ("province", 2)):
        frame[name] = code.str.slice(0, length).astype("int64").to_numpy()
    return frame


def floor(frame: pd.DataFrame) -> list[pd.DataFrame]:
    values = [c for c in frame.columns if c not in ("township", "county", "city", "province")]
    out = [frame.groupby(key)[values].sum() for key in ("township", "county", "city", "province")]
    out.append(frame[values].sum().to_frame().T)
    return out


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("divisions", nargs="?", default="/work/shared/data/divisions")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    registry = load_registry(Path(args.divisions))
    t_registry = time.perf_counter() - start
    start = time.perf_counter()
    acc = synthetic_day(registry.reporters)
    t_day = time.perf_counter() - start
    catalogue, settings = load_catalogue(), Settings()
    frame = floor_inputs(acc)

    t_floor, _ = timed(lambda: floor(frame), args.repeat)
    t_roll, result = timed(lambda: roll_up(acc, DAY, catalogue, registry, settings), args.repeat)

    units = registry.units
    print(f"registry: {len(units):,} units, root {registry.root}, loaded in {t_registry:.1f} s")
    print(
        f"synthetic day: {len(acc):,} accepted rows x {len(catalogue.indicators)} indicators "
        f"(built in {t_day:.1f} s)"
    )
    print(
        f"output: consolidated {len(result.consolidated):,} rows, completeness "
        f"{len(result.completeness):,}, missing {len(result.missing):,}"
    )
    print(f"median of {args.repeat}:")
    print(f"  floor  pandas per-level groupby sum   {t_floor:7.3f} s   1.00x")
    print(f"  roll_up (full step)                   {t_roll:7.3f} s   {t_roll / t_floor:.2f}x")


if __name__ == "__main__":
    main()
