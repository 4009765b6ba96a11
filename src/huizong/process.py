"""How a Huizong process ends: without the interpreter's last walk over every object.

Stdlib only, so a DAG file can call it at parse time.
"""

from __future__ import annotations

import atexit
import gc

_registered = False


def skip_final_collection() -> None:
    """At exit, freeze every tracked object so that the interpreter's final garbage
    collection, which visits them all, has nothing left to visit.

    ``airflow dags test`` of the demo day ends holding about 730 k objects, most of them
    the FastAPI/Cadwyn routes of its in-process execution API; walking them took about
    2.5 s of a 16 s run (``py-spy dump --native``). Frozen objects sit in the permanent
    generation, which that collection skips; the process's memory goes back to the system
    at exit either way. Atexit handlers still all run (logging's flush included), so the
    only thing skipped is the search for unreachable cycles of a process that is ending.
    Calling it again registers nothing more.
    """
    global _registered
    if not _registered:
        atexit.register(gc.freeze)
        _registered = True
