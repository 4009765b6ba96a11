"""One run per reporting day at a time: an exclusive ``flock`` on a file in the run dir.

Two runs of the same day write the same run directory; without a lock one could read
the other's half-finished step outputs. The lock is held for a whole ``run_day``; the
second run waits for the first and then redoes the day from ingest, which gives the same
files and tables. The kernel drops the lock when its holder dies (even on SIGKILL), so a
killed worker never leaves a stale lock behind. In Airflow, ``max_active_runs=1`` already
serialises the DAG's runs; this lock also covers ``huizong run`` beside the scheduler.

The lock is re-entrant within a process (``flock`` on a second descriptor of the same
file would deadlock against the first), so callers may nest it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from huizong.settings import Settings

LOCK_NAME = ".run.lock"

log = logging.getLogger(__name__)

_held: dict[Path, int] = {}  # lock path -> nesting depth in this process
_guard = threading.Lock()


class RunLockTimeout(TimeoutError):
    """Another run of the same day held the lock for longer than the caller would wait."""


def lock_path(settings: Settings, day: date) -> Path:
    return settings.run_dir(day) / LOCK_NAME


@contextmanager
def day_lock(settings: Settings, day: date, timeout: float | None = None) -> Iterator[Path]:
    """Hold the day's run lock; wait for another run of the day (forever, or ``timeout`` s)."""
    path = lock_path(settings, day).resolve()
    with _guard:
        if path in _held:
            _held[path] += 1
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield path
        finally:
            with _guard:
                _held[path] -= 1
        return

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, day, timeout)
        with _guard:
            _held[path] = 1
        try:
            yield path
        finally:
            with _guard:
                del _held[path]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, day: date, timeout: float | None) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    log.warning("another run of %s holds %s: waiting for the run lock", day, path)
    started = time.monotonic()
    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
    else:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - started >= timeout:
                    raise RunLockTimeout(
                        f"another run of {day} still holds {path} after {timeout:g} s"
                    ) from None
                time.sleep(0.2)
    log.warning("got the run lock for %s after %.1f s", day, time.monotonic() - started)
