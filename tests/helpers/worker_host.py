"""``[core] hostname_callable`` for the multi-worker test: each Celery worker runs as if
on its own host (``HUIZONG_TEST_WORKER_HOST``), so task instances say which one ran them."""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("HUIZONG_TEST_WORKER_HOST") or socket.getfqdn()
