"""The review app as the plugin mounts it: built on its first request, not on import.

Why: Airflow imports every plugin module in every process that loads plugins — each task
process on a worker too (for macros and listeners), not only the API server — and
building the review app (FastAPI, its routers, pandas through the queries) cost 1.9 s of
each such import (cProfile of ``airflow dags test huizong_nightly``), paid by all 16
tasks of a night for a page no task serves.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class LazyApp:
    """An ASGI app that builds the real one with ``build`` on the first request it gets
    and hands every request to it; ``build`` runs once."""

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build = build
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._app is not None

    def app(self) -> ASGIApp:
        if self._app is None:
            with self._lock:  # the API server's worker threads may race on the first page
                if self._app is None:
                    self._app = self._build()
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app()(scope, receive, send)


def review_app() -> ASGIApp:
    """The review app with the environment's settings (``huizong.review.app``)."""
    from huizong.review.app import create_app

    return create_app()
