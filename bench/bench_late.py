"""One late village correction on the demo city re-published, against a full re-run of the
same day in a fresh home, both measured in the same run.

Setup (untimed): the demo day is generated and published (version 1); a steward then
corrects one planted too-high village value (as ``tests/helpers/corrections.py`` does).
Timed: ``run_day`` of that day after the correction (version 2: what the night or the
review page's re-run does), and ``run_day`` of the same inbox in a fresh home (the full
run the correction is compared with). Reported: wall and CPU seconds of each, the ratio
correction / full run, and the CPU share (CPU / wall; well below 1 means the shared
machine was busy). The issue's goal (≤ 5 s on a national day) is not measured here.

    .venv/bin/python bench/bench_late.py [--date 2020-01-28]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from huizong.demo import generate_demo_day
from huizong.pipeline import run_day
from huizong.publish.warehouse import read_versions
from huizong.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.corrections import correct_planted_value


def timed(label: str, call) -> tuple[float, float, dict]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<34} {wall:7.2f} s wall {cpu:7.2f} s CPU  share {cpu / wall:4.2f}", flush=True)
    return wall, cpu, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2020, 1, 28))
    day = parser.parse_args().date
    with tempfile.TemporaryDirectory(prefix="bench-late-") as tmp:
        root = Path(tmp)
        inbox = root / "inbox"
        generate_demo_day(day, inbox / day.isoformat())

        def home(name: str) -> Settings:
            return Settings(
                home=root / name,
                inbox_root=inbox,
                warehouse_url=f"sqlite:///{root / name / 'warehouse.sqlite'}",
            )

        late = home("late")
        run_day(day, late, trigger="nightly")
        correct_planted_value(late, day)
        w_late, c_late, summary = timed(
            "late correction re-published", lambda: run_day(day, late, trigger="correction")
        )
        assert summary["publish"]["version"] == 2, summary["publish"]
        changed = int(read_versions(late.warehouse, day)["changed_values"].iloc[-1])
        fresh = home("fresh")
        w_full, c_full, _ = timed("full run, fresh home", lambda: run_day(day, fresh))
    print(
        f"ratio correction / full run: {w_late / w_full:.2f} wall, {c_late / c_full:.2f} CPU; "
        f"values changed by the correction: {changed}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
