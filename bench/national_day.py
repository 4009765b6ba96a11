"""The benchmark's days, generated once into a cache: city, province and nation.

Each size is the project's own demo day (:func:`huizong.demo.generate_demo_day`, the same
planner and writer as ``huizong demo-data``) over a registry: the shipped 沧州市 extract
(city), province 13 (河北省) cut from the national division codes, and the whole national
set (``../shared/data/divisions``). A size is complete when its ``inbox.complete`` marker
exists; a half-written cache (killed generator) is regenerated.

Usage: ``python bench/national_day.py [city|province|nation ...]`` (generate only).
"""

from __future__ import annotations

import csv
import gzip
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from huizong.registry import Registry, load_registry, save_registry, shipped_extract
from huizong.settings import Settings

DAY = date(2020, 1, 28)
ROOT = Path(__file__).resolve().parents[1]
SIZES = ("city", "province", "nation")
PROVINCE = "13"
FILES = ("provinces", "cities", "areas", "streets", "villages")


def national_divisions() -> Path:
    """``$HUIZONG_DIVISIONS_NATIONAL`` or ``../shared/data/divisions`` beside the checkout."""
    env = os.environ.get("HUIZONG_DIVISIONS_NATIONAL")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "divisions"


def cache_root() -> Path:
    """``$HUIZONG_BENCH_CACHE`` or ``var/bench-cache``, made on first use (a fresh machine has
    neither, and a bench that starts with a scratch folder in it must not fail)."""
    env = os.environ.get("HUIZONG_BENCH_CACHE")
    root = Path(env) if env else ROOT / "var" / "bench-cache"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _province_cut(source: Path, target: Path, province: str) -> Path:
    """The division files of one province, in the national files' own format."""
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        with gzip.open(source / f"{name}.csv.gz", "rt", encoding="utf-8", newline="") as src:
            rows = csv.DictReader(src)
            fields = rows.fieldnames or []
            key = "code" if name == "provinces" else "provinceCode"
            tmp = target / f"{name}.csv.gz.tmp"
            with gzip.open(tmp, "wt", encoding="utf-8", newline="") as out:
                writer = csv.DictWriter(out, fieldnames=fields)
                writer.writeheader()
                writer.writerows(r for r in rows if r[key] == province)
            tmp.replace(target / f"{name}.csv.gz")
    return target


def divisions_for(size: str) -> Path | None:
    """The division folder of a size; None when the national codes are absent."""
    national = national_divisions()
    if size == "city":
        return shipped_extract()
    if not (national / "villages.csv.gz").is_file():
        return None
    if size == "nation":
        return national
    target = cache_root() / size / "divisions"
    if not (target / "villages.csv.gz").is_file():
        _province_cut(national, target, PROVINCE)
    return target


def home_of(size: str) -> Path:
    return cache_root() / size / "home"


def inbox_of(size: str) -> Path:
    return cache_root() / size / "inbox" / DAY.isoformat()


def prepare(size: str) -> Settings | None:
    """Settings whose home holds the size's registry and whose inbox holds its day.

    The registry is saved as ``huizong registry load`` would (so each step's process reads
    a Parquet file instead of re-parsing the division codes). None: national codes absent.
    """
    from huizong.demo import generate_demo_day

    divisions = divisions_for(size)
    if divisions is None:
        return None
    settings = Settings(home=home_of(size), inbox_root=inbox_of(size).parent)
    marker = cache_root() / size / "inbox.complete"
    registry: Registry | None = None
    if not settings.loaded_registry.exists():
        registry = load_registry(divisions)
        save_registry(registry, settings)
    if not marker.exists():
        registry = registry or load_registry(divisions)
        started = time.perf_counter()
        shutil.rmtree(inbox_of(size), ignore_errors=True)
        files = generate_demo_day(DAY, inbox_of(size), registry=registry)
        marker.write_text(f"{len(files)} files in {time.perf_counter() - started:.0f} s\n")
        print(f"  generated {size}: {marker.read_text().strip()}", flush=True)
    return settings


def main(argv: list[str]) -> int:
    for size in argv or SIZES:
        if prepare(size) is None:
            print(f"{size}: skipped, no national division codes at {national_divisions()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
