"""``import huizong`` makes Arrow allocate with the C library (what kept a national night
under 2 GB), unless the operator chose an allocator."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = "import huizong, pyarrow; print(pyarrow.default_memory_pool().backend_name)"


@pytest.mark.parametrize(("chosen", "backend"), [(None, "system"), ("mimalloc", "mimalloc")])
def test_arrow_allocates_with_the_system_allocator_unless_chosen(chosen, backend) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if chosen is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [backend]
