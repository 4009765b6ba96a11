"""``huizong.process``: a process that asked for it ends with its objects frozen, once."""

from __future__ import annotations

import subprocess
import sys

#: A handler registered before ``skip_final_collection`` runs after it (atexit is LIFO),
#: so it sees what the freeze did; ``_ncallbacks`` counts the handlers registered.
_CHILD = """
import atexit, gc
seen = []
atexit.register(lambda: print("frozen", gc.get_freeze_count() > 0, "handlers", seen[0]))
from huizong.process import skip_final_collection
before = atexit._ncallbacks()
skip_final_collection()
skip_final_collection()
seen.append(atexit._ncallbacks() - before)
gc_objects = [[i] for i in range(1000)]
"""


def test_exit_freezes_the_objects_with_one_handler_however_often_asked() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["frozen", "True", "handlers", "1"]


def test_a_process_that_did_not_ask_ends_unfrozen() -> None:
    child = "import atexit, gc; import huizong.process\n"
    child += "atexit.register(lambda: print(gc.get_freeze_count()))\n"
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "0"
