"""One late village correction re-published by the fast path, against a full re-run of the
same day, both measured in the same run, on the demo city and on a province (or nation).

Setup (untimed): the day is published once (version 1) in home ``fast``; the home is
copied to ``full`` (same warehouse, same hand-over); a steward then corrects one planted
too-high village value (as ``tests/helpers/corrections.py`` does), which puts one
revision file in the shared inbox. The published version 1 (home and inbox) is kept in
the cache (``<size>/late-setup``) and copied from there by the next run: a national
night takes half an hour on a busy 2-core machine. ``--fresh`` publishes it again.
Timed, each path through the publish of the day's tables (version 2):

* fast: :func:`huizong.pipeline.correct_day` (what ``run_day(trigger="correction")``
  runs: the added file read, the whole day validated and rolled up, changed rows written);
* full: the night's steps ingest → late → validate → roll-up → publish of the whole day.

Then, once (the same code on both paths): the workbook, the week/旬/month and Data Docs.
Reported: wall and CPU seconds, CPU share (CPU / wall; well below 1 means the shared
machine was busy), the ratio fast / full, and the rows each wrote. The sizes come from
``bench/national_day.py`` (its cache; province and nation need the national division
codes and are skipped with a message without them). SQLite warehouse.

    .venv/bin/python bench/bench_late.py [--sizes city,province] [--fresh]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from huizong import handover
from huizong import pipeline as p
from huizong.demo import generate_demo_day
from huizong.publish.warehouse import read_versions
from huizong.runlock import day_lock
from huizong.settings import Settings
from huizong.validate.datadocs import data_docs_day

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import national_day as nd

from helpers.corrections import correct_planted_value

DAY = nd.DAY
Row = tuple[str, str, float, float, str]


def timed(call: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def full_publish(settings: Settings) -> dict[str, Any]:
    """The night's steps through publish, as ``run_day`` runs them on the full path."""
    with day_lock(settings, DAY):
        handover.clear_step_files(settings, DAY)
        p.ingest_day(DAY, settings)
        p.validate_day(DAY, settings)
        p.rollup_day(DAY, settings)
        return p.publish_day(DAY, settings, trigger="correction")


def fast_publish(settings: Settings) -> dict[str, Any]:
    with day_lock(settings, DAY):
        summary = p.correct_day(DAY, settings, "correction")
    assert summary is not None, "the fast path fell back"
    return summary["publish"]


def home_for(size: str, root: Path) -> Settings:
    """A home whose inbox is a copy of the size's day (the correction writes into it)."""
    inbox = root / "inbox"
    if size == "city":
        generate_demo_day(DAY, inbox / DAY.isoformat())
        registry = None
    else:
        prepared = nd.prepare(size)
        if prepared is None:
            return None  # type: ignore[return-value]
        shutil.copytree(nd.inbox_of(size), inbox / DAY.isoformat())
        registry = prepared.loaded_registry
    home = root / "fast"
    settings = Settings(
        home=home, inbox_root=inbox, warehouse_url=f"sqlite:///{home / 'warehouse.sqlite'}"
    )
    if registry is not None:
        settings.loaded_registry.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(registry, settings.loaded_registry)
        root_file = registry.with_suffix(".root")  # which unit is the registry's root
        shutil.copy2(root_file, settings.loaded_registry.with_suffix(".root"))
    return settings


def _copy(source: Path, target: Path) -> None:
    """A copy whose inbox and content store are hard links (never written in place)."""

    def link_or_copy(src: str, dst: str) -> None:
        if "/inbox/" in src or "/store/" in src:
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link_or_copy, symlinks=True)


def warm_up(settings: Settings) -> None:
    """Import what the fast path imports on first use (Airflow's object storage under the
    hand-over, the quality, roll-up and publish modules, pyarrow.parquet, SQLAlchemy ORM):
    a cached setup skips the night that imported them, and the full path, timed second,
    would find them imported."""
    import importlib

    for name in (
        "huizong.ingest.added",
        "huizong.ingest.late",
        "huizong.publish.incremental",
        "huizong.quality",
        "huizong.quality.partial",
        "huizong.rollup",
        "huizong.validate.partial",
        "pyarrow.dataset",
        "pyarrow.pandas_compat",
        "pyarrow.parquet",
        "sqlalchemy.orm",
    ):
        importlib.import_module(name)
    handover.read_frame(settings, DAY, "ledger.parquet")  # a first open loads Airflow's plugins


def published_home(size: str, root: Path, fresh: bool) -> Settings | None:
    """Home ``fast`` under ``root`` holding the day published once (version 1), copied
    from the cache's ``late-setup`` or published there first."""
    setup = nd.cache_root() / size / "late-setup"
    if fresh or not (setup / "ready").exists():
        shutil.rmtree(setup, ignore_errors=True)
        settings = home_for(size, setup)
        if settings is None:
            return None
        w0, _, _ = timed(lambda: p.run_day(DAY, settings, trigger="nightly"))
        print(f"{size}: published version 1 in {w0:.1f} s (setup, kept in {setup})", flush=True)
        (setup / "ready").write_text(f"{w0:.0f} s\n")
    made = Settings(
        home=setup / "fast",
        inbox_root=setup / "inbox",
        warehouse_url=f"sqlite:///{setup / 'fast' / 'warehouse.sqlite'}",
    )
    if p.PUBLISHED_HASHES not in handover.frame_names(made, DAY):
        # a version 1 published by code that kept no hashes: made once from its run files
        # (checked against its tables_digest), untimed, as its publish now keeps them
        w1, _, ok = timed(lambda: p.keep_published_hashes(DAY, made))
        print(f"{size}: kept version 1's hashes in {w1:.1f} s (setup): {ok}", flush=True)
    _copy(setup / "inbox", root / "inbox")
    _copy(setup / "fast", root / "fast")
    home = root / "fast"
    return Settings(
        home=home, inbox_root=root / "inbox", warehouse_url=f"sqlite:///{home / 'warehouse.sqlite'}"
    )


def bench_size(size: str, fresh: bool = False) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix=f"bench-late-{size}-", dir=nd.cache_root()) as tmp:
        root = Path(tmp)
        fast = published_home(size, root, fresh)
        if fast is None:
            print(f"{size}: skipped, no national division codes at {nd.national_divisions()}")
            return []
        _copy(fast.home, root / "full")
        warm_up(fast)
        full = replace(
            fast,
            home=root / "full",
            warehouse_url=f"sqlite:///{root / 'full' / 'warehouse.sqlite'}",
        )
        correct_planted_value(fast, DAY)
        w_fast, c_fast, quick = timed(lambda: fast_publish(fast))
        assert quick["version"] == 2 and quick["path"] == "changed rows", quick
        print(f"{size}: fast path {w_fast:.2f} s wall, {c_fast:.2f} s CPU", flush=True)
        w_full, c_full, slow = timed(lambda: full_publish(full))
        assert slow["version"] == 2, slow
        w_rest, c_rest, _ = timed(
            lambda: (
                p.workbook_day(DAY, fast),
                p.periods_day(DAY, fast),
                data_docs_day(DAY, fast),
            )
        )
        changed = int(read_versions(fast.warehouse, DAY)["changed_values"].iloc[-1])
        total = sum(slow["rows"].values())
        written = sum(quick["written"].values())
    return [
        (
            size,
            "fast path through publish",
            w_fast,
            c_fast,
            f"{written} rows written (old side: {quick['old_side']})",
        ),
        (size, "full re-run through publish", w_full, c_full, f"{total} rows written"),
        (size, "ratio fast / full", w_fast / w_full, c_fast / c_full, f"{changed} values changed"),
        (size, "then workbook, periods, Data Docs", w_rest, c_rest, "same code on both paths"),
    ]


def print_rows(rows: list[Row]) -> None:
    print("\n| size | what | wall | CPU | CPU share | note |\n|---|---|---|---|---|---|")
    for size, what, wall, cpu, note in rows:
        if what.startswith("ratio"):
            print(f"| {size} | {what} | {wall:.2f} | {cpu:.2f} | | {note} |")
        else:
            print(f"| {size} | {what} | {wall:.2f} s | {cpu:.2f} s | {cpu / wall:.2f} | {note} |")
    print(flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="city,province")
    parser.add_argument("--fresh", action="store_true", help="publish version 1 again")
    args = parser.parse_args()
    rows: list[Row] = []
    for size in args.sizes.split(","):
        rows.extend(bench_size(size, args.fresh))
        print_rows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
