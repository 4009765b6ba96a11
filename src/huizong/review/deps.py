"""What every review route depends on: the backend, the current steward, the day, the
page context (root path, CSRF token) and the cross-site check for state-changing routes.

Routers take these as FastAPI dependencies (``steward: StewardDep``, ``p: DayDep`` …;
the downloads take ``reader: ReaderDep``, open to readers and stewards alike)
instead of reaching into globals, so a new router needs nothing but this module.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine

from huizong import warehouse
from huizong.catalogue import Catalogue, load_catalogue
from huizong.registry import Registry, registry_for
from huizong.review import store
from huizong.review.airflow_api import Airflow
from huizong.review.html import e, hidden
from huizong.settings import Settings

TOKEN_COOKIE = "_token"  # airflow.api_fastapi.auth.managers.base_auth_manager.COOKIE_NAME_JWT_TOKEN
CSRF_FIELD = "csrf_token"


class Backend:
    """Settings, engine and catalogue, resolved on first use so that building the app
    (at plugin import) touches no disk, database or Airflow connection."""

    def __init__(self, settings: Settings | None, engine: Engine | None) -> None:
        self._settings = settings
        self._engine = engine
        self._ready = False
        self._registry: Registry | None = None
        self._registry_stamp: int | None = None
        self._lock = threading.RLock()

    @property
    def settings(self) -> Settings:
        """The one resolution the DAG's tasks and the CLI use (``Settings.resolve``)."""
        with self._lock:
            if self._settings is None:
                self._settings = Settings.resolve()
            return self._settings

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = warehouse.open_engine(self.settings.warehouse, "huizong-review")
            if not self._ready:
                store.ensure_schema(self._engine)
                self._ready = True
            return self._engine

    @property
    def warehouse_url(self) -> str:
        """The URL of the engine the app reads (for readers that open their own)."""
        return warehouse.url_of(self.engine.url)

    @property
    def registry(self) -> Registry:
        """The deployment's registry (as the night uses it), read again only when
        ``huizong registry load`` has replaced it since: no restart after a load."""
        with self._lock:
            stamp = _mtime(self.settings.loaded_registry)
            if self._registry is None or stamp != self._registry_stamp:
                self._registry = registry_for(self.settings)
                self._registry_stamp = stamp
            return self._registry

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


class ReaderOnly(HTTPException):
    """A reader (agency) asked for a steward's page or action: 403, pointing to 汇总下载."""

    def __init__(self) -> None:
        super().__init__(
            403,
            "您是只读用户，只能使用汇总下载 / you are a reader: only the Downloads page is yours",
        )


def current_steward(backend: BackendDep, user: GetUserDep) -> Steward:
    """The Airflow user and the units they steward (none: they see nothing).

    A user who is only a reader (units assigned with ``--role reader`` and none as a
    steward) is refused every steward page and action: :class:`ReaderOnly` (403).
    """
    name = user.get_name()
    scopes = store.scopes_for(backend.engine, name)
    if not scopes and store.scopes_for(backend.engine, name, "reader"):
        raise ReaderOnly()
    return Steward(name, scopes)


StewardDep = Annotated[Steward, Depends(current_steward)]


@dataclass(frozen=True)
class Reader:
    """Who downloads reports: the units they steward and the units they read, in order."""

    username: str
    scopes: tuple[str, ...]
    is_steward: bool


def current_reader(backend: BackendDep, user: GetUserDep) -> Reader:
    """The Airflow user and every unit whose reports they may download (both roles)."""
    name = user.get_name()
    stewarded = store.scopes_for(backend.engine, name)
    read = store.scopes_for(backend.engine, name, "reader")
    return Reader(name, tuple(dict.fromkeys((*stewarded, *read))), bool(stewarded))


ReaderDep = Annotated[Reader, Depends(current_reader)]


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


def _netloc(url: str) -> str:
    return urlparse(url).netloc if url and url != "null" else ""


def _refuse(why_zh: str, why_en: str) -> HTTPException:
    return HTTPException(403, f"跨站请求被拒绝：{why_zh} / cross-site request refused: {why_en}")


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing request a cross-site page could have made.

    A foreign ``Origin``/``Referer`` is always refused. A browser session (the ``_token``
    cookie, which rides along on any cross-site form) must in addition say where it comes
    from — ``Origin: null`` and a request with neither header are refused, since a page
    with ``<meta name="referrer" content="no-referrer">`` sends exactly that — and carry
    its session's CSRF token. A request with ``Authorization: Bearer`` cannot be forged
    by a page (it cannot set that header), so API clients need neither.
    """
    host = request.headers.get("host", "")
    origin = request.headers.get("origin")
    referer = request.headers.get("referer")
    claimed = [u for u in (origin, referer) if u and u != "null"]
    if any(_netloc(u) != host for u in claimed):
        raise _refuse("来源不是本站", "the request comes from another site")
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    if origin == "null" or not claimed:
        raise _refuse("请求没有说明来源", "the request does not say where it comes from")
    sent = str((await request.form()).get(CSRF_FIELD) or "")
    if not sent or not hmac.compare_digest(sent, csrf_token(request)):
        raise _refuse(
            "表单已过期或不是本站生成，请刷新页面后重试",
            "the form is stale or not from this site; reload the page and try again",
        )


#: Put on every state-changing route (``dependencies=[CsrfDep]``); the app's own
#: ``get_user`` runs first, so a request without a user is still 401.
CsrfDep = Depends(check_csrf)


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


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None
