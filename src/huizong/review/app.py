"""The review web app, mounted into Airflow's API server by ``plugins/huizong_review.py``.

A plugin's FastAPI app is not protected by Airflow's auth manager, so the app depends on
Airflow's ``get_user`` for every route (JWT from ``Authorization: Bearer`` or the
``_token`` cookie the Airflow UI sets): no token, 401. The user's name selects their
``steward_scope`` rows, and every list, page and action is restricted to that subtree
(403 outside it).

How the app is put together — and how to add a page:

* one router per group of pages in ``huizong.review.routes`` (``runs``, ``totals``,
  ``audit``, ``actions``, ``rerun``): a module with ``router = APIRouter()`` and its routes;
* routes take what they need from ``huizong.review.deps``: ``steward: StewardDep`` (the
  user and their scopes), ``p: DayDep`` (the ``{period}`` checked as a day),
  ``backend: BackendDep`` (engine, settings, catalogue), ``v: ViewDep`` (root path,
  ``v.form(...)`` which adds the CSRF token), ``airflow: AirflowDep``; a route that changes
  anything declares ``dependencies=[CsrfDep]``;
* pages are built with ``huizong.review.html.page``/``table`` (escaped, no external host);
  shared pieces (issue tables, JSON records) are in ``huizong.review.views``;
* add the router to :data:`ROUTERS` below, and add its routes to the route walk in
  ``tests/review/test_app.py`` (``B_CASES``): a route missing there fails the tests, and
  every route is checked for 401 without a user and for nothing across counties.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from airflow.api_fastapi.core_api.security import get_user
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from huizong.review import actions
from huizong.review.airflow_api import Airflow, AirflowError, HttpAirflow
from huizong.review.deps import Backend, ReaderOnly, view, wants_json
from huizong.review.html import e, page
from huizong.review.routes import actions as action_routes
from huizong.review.routes import (
    audit,
    changes,
    downloads,
    rerun,
    runs,
    signoff,
    static,
    totals,
    trace,
    upload,
)
from huizong.review.scopes import ScopeError
from huizong.settings import Settings

#: Sent with every answer (a route may set a looser CSP of its own, as Data Docs do).
#: Framing only by the same origin: the Airflow UI shows external views in a frame.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
}

#: Every router of the app, in the order their routes are matched.
ROUTERS: tuple[APIRouter, ...] = (
    runs.router,
    totals.router,
    audit.router,
    action_routes.router,
    rerun.router,
    upload.router,
    static.router,
    downloads.router,
    signoff.router,
    changes.router,
    trace.router,
)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    airflow: Airflow | None = None,
    airflow_api_url: str | None = None,
) -> FastAPI:
    """The review app; ``settings`` default to ``Settings.resolve()`` (on first request);
    ``airflow`` to Airflow's REST API at ``airflow_api_url`` (default: the settings')."""
    backend = Backend(settings, engine)
    app = FastAPI(
        title="Huizong review",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(get_user)],  # belt and braces: no route without a user
    )
    app.state.backend = backend
    app.state.airflow = airflow or HttpAirflow(
        airflow_api_url or (settings or Settings.from_env()).airflow_api_url
    )
    for router in ROUTERS:
        app.include_router(router)
    _error_pages(app)

    @app.middleware("http")
    async def _security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


def _is_browser_page(request: Request) -> bool:
    """A browser asking for a page (it sends ``Accept: text/html``), not an API client."""
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def _login_url(request: Request) -> str:
    """Airflow's login page, coming back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        from airflow.api_fastapi.app import get_auth_manager

        return get_auth_manager().get_url_login(next_url=here)
    except Exception:  # auth manager not initialised (the app outside the API server)
        return f"/auth/login?{urlencode({'next': here})}"


TITLES = {
    400: "请求有误 / Bad request",
    403: "无权限 / Forbidden",
    404: "未找到 / Not found",
    409: "冲突 / Conflict",
}


def _error_pages(app: FastAPI) -> None:
    """Domain errors as HTTP answers: a bilingual page for browsers, JSON for API clients."""

    def answer(request: Request, code: int, title: str, detail: str) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": detail}, status_code=code)
        root = view(request).root
        body, nav = f"<p>{e(detail)}</p>", None
        if request.url.path.startswith(f"{root}/downloads/"):  # readers have no review index
            nav = f'<a href="{e(root)}/downloads/">汇总下载 Downloads</a>'
        return HTMLResponse(page(title, body, root=root, nav=nav), code)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 401 and _is_browser_page(request):
            return RedirectResponse(_login_url(request), status_code=303)
        if exc.status_code == 401 or wants_json(request):
            return await http_exception_handler(request, exc)
        title = TITLES.get(exc.status_code, f"错误 / Error {exc.status_code}")
        if isinstance(exc, ReaderOnly) and not wants_json(request):
            root = view(request).root
            link = f'<a id="downloads-link" href="{e(root)}/downloads/">汇总下载 Downloads</a>'
            body = f"<p>{e(str(exc.detail))}</p><p>{link}</p>"
            return HTMLResponse(page(title, body, root=root, nav=""), exc.status_code)
        return answer(request, exc.status_code, title, str(exc.detail))

    @app.exception_handler(ScopeError)
    async def _scope(request: Request, exc: ScopeError) -> Response:
        return answer(request, 403, "无权限 / Forbidden", str(exc))

    @app.exception_handler(actions.NotFound)
    async def _nf(request: Request, exc: actions.NotFound) -> Response:
        return answer(request, 404, "未找到 / Not found", str(exc))

    @app.exception_handler(actions.ActionError)
    async def _bad(request: Request, exc: actions.ActionError) -> Response:
        return answer(request, 400, "请求有误 / Bad request", str(exc))

    @app.exception_handler(actions.OriginalUnavailable)
    async def _gone(request: Request, exc: actions.OriginalUnavailable) -> Response:
        return answer(request, 409, "原始数据不可用 / Original unavailable", str(exc))

    @app.exception_handler(AirflowError)
    async def _airflow(request: Request, exc: AirflowError) -> Response:
        return answer(request, exc.status, "Airflow 拒绝 / Airflow refused", str(exc))
