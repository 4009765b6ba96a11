"""Run every benchmark in turn (``make bench``); each prints ratios against a baseline
measured in the same process, never absolute pass/fail times."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHES = [
    "bench_rollup.py",
    "bench_publish.py",
    "bench_workbooks.py",
    "bench_unit_workbook.py",
    "bench_county_workbooks.py",
]


def main() -> int:
    here = Path(__file__).resolve().parent
    failed = 0
    for name in BENCHES:
        print(f"== {name}", flush=True)
        failed |= subprocess.run([sys.executable, str(here / name)], check=False).returncode
    return failed


if __name__ == "__main__":
    sys.exit(main())
