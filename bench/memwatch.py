"""Where a step's memory peaks: a thread samples the resident set and keeps the main
thread's stack at each new high, so a national step shows which call held the memory
without tracemalloc's slowdown (several times the step's time at nation size).

Usage: ``python bench/memwatch.py STEP SIZE`` runs one ``bench_national`` child step
(as ``--child`` would) and prints the peak's stack and the resident set over time.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Watch:
    """Samples VmRSS every ``interval`` s; keeps the stack of the main thread at the peak
    and, per sample that rose by 50 MB or more, the innermost project frame."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak = 0
        self.peak_stack: list[str] = []
        self.steps: list[tuple[float, int, str]] = []
        self._stop = threading.Event()
        self._main = threading.main_thread().ident
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.perf_counter()

    def _where(self) -> list[str]:
        frame = sys._current_frames().get(self._main)
        return traceback.format_stack(frame) if frame else []

    def _run(self) -> None:
        last = 0
        while not self._stop.wait(self.interval):
            rss = _rss()
            if rss > self.peak:
                self.peak, self.peak_stack = rss, self._where()
            if abs(rss - last) >= 50 * 2**20:
                own = [s for s in self._where() if "huizong" in s or "bench" in s]
                here = own[-1].strip().splitlines()[0] if own else "?"
                self.steps.append((time.perf_counter() - self._t0, rss, here))
                last = rss

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def report(self) -> str:
        lines = [f"peak {self.peak / 2**30:.2f} GB at:"]
        lines += [s.rstrip() for s in self.peak_stack if "site-packages" not in s][-14:]
        lines.append("resident set over time (changes of 50 MB or more):")
        lines += [f"  {t:7.1f} s {r / 2**30:5.2f} GB  {w}" for t, r, w in self.steps]
        return "\n".join(lines)


def main(argv: list[str]) -> int:
    import bench_national as bn

    step, size = argv
    settings = bn._settings(size, None, step)
    with Watch() as watch:
        run = bn._step(step, settings)
        run()
    print(watch.report())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
