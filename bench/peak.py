"""Peak resident memory of this process, as the benchmarks report it."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_bytes() -> int:
    """The kernel's high-water mark of this process's memory (``VmHWM``).

    Not ``getrusage().ru_maxrss``: Linux carries that across fork and exec, so a step's
    process started by a parent that holds a national day reported the parent's 1.7 GB.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
