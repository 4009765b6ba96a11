"""What every review route depends on: the backend, the current steward, the day, the
page context (root path, CSRF token) and the cross-site check for state-changing routes.

Routers take these as FastAPI dependencies (``steward: StewardDep``, ``p: DayDep`` …)
instead of reaching into globals, so a new router needs nothing but this module.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine

from huizong.catalogue import Catalogue, load_catalogue
from huizong.review import store
from huizong.review.airflow_api import Airflow
from huizong.review.html import e, hidden
from huizong.settings import Settings

TOKEN_COOKIE = "_token"  # airflow.api_fastapi.auth.managers.base_auth_manager.COOKIE_NAME_JWT_TOKEN
CSRF_FIELD = "csrf_token"


class Backend:
    """Engine and catalogue, created on first use so building the app touches nothing."""

    def __init__(self, settings: Settings, engine: Engine | None) -> None:
        self.settings = settings
        self._engine = engine
        self._ready = False
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = sa.create_engine(self.settings.warehouse)
            if not self._ready:
                store.ensure_schema(self._engine)
                self._ready = True
            return self._engine

    @property
    def catalogue(self) -> Catalogue:
        return load_catalogue(self.settings.form)


def get_backend(request: Request) -> Backend:
    return request.app.state.backend


def get_airflow(request: Request) -> Airflow:
    return request.app.state.airflow


BackendDep = Annotated[Backend, Depends(get_backend)]
AirflowDep = Annotated[Airflow, Depends(get_airflow)]


@dataclass(frozen=True)
class Steward:
    username: str
    scopes: tuple[str, ...]


def current_steward(backend: BackendDep, user: GetUserDep) -> Steward:
    """The Airflow user and the units they are assigned (none: they see nothing)."""
    name = user.get_name()
    return Steward(name, store.scopes_for(backend.engine, name))


StewardDep = Annotated[Steward, Depends(current_steward)]


def day(period: str) -> str:
    """The ``{period}`` of the path as ``YYYY-MM-DD`` (400 if it is not a day)."""
    try:
        return store.period_text(period)
    except ValueError:
        raise HTTPException(400, f"不是日期 / not a day: {period!r}") from None


DayDep = Annotated[str, Depends(day)]


def session_token(request: Request) -> str:
    """The caller's own Airflow JWT (header first, as Airflow's ``get_user`` decides)."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get(TOKEN_COOKIE, "")


def csrf_token(request: Request) -> str:
    """A per-session token for forms: an HMAC keyed by the session's JWT.

    A cross-site page can neither read the JWT cookie nor this page, so it cannot compute
    or copy the token; no server-side state or shared secret is needed across workers.
    """
    jwt = session_token(request)
    if not jwt:
        return ""
    return hmac.new(jwt.encode(), b"huizong-review-csrf", hashlib.sha256).hexdigest()


def same_origin(request: Request) -> None:
    """Refuse cross-site form posts (the Airflow cookie would ride along)."""
    from urllib.parse import urlparse

    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin and urlparse(origin).netloc not in ("", request.headers.get("host", "")):
        raise HTTPException(403, "cross-origin request refused")


#: Put on every state-changing route, after ``StewardDep`` (so no user is still 401).
CsrfDep = Depends(same_origin)


@dataclass(frozen=True)
class View:
    """What a page needs to link and post inside the app: its root path and CSRF token."""

    root: str
    csrf: str

    def url(self, path: str) -> str:
        return f"{self.root}{path}"

    def form(self, action: str, fields: dict[str, object], inner: str, **attrs: str) -> str:
        """A POST form to ``action`` (app path) carrying ``fields`` and the CSRF token."""
        extra = "".join(f' {k.rstrip("_")}="{e(v)}"' for k, v in attrs.items())
        return (
            f'<form method="post" action="{e(self.url(action))}"{extra}>'
            + hidden({**fields, CSRF_FIELD: self.csrf})
            + inner
            + "</form>"
        )


def view(request: Request) -> View:
    return View(str(request.scope.get("root_path", "")).rstrip("/"), csrf_token(request))


ViewDep = Annotated[View, Depends(view)]


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")
