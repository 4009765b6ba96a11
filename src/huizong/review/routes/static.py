"""The app's own stylesheet: one fixed file of the package (never a path from the request)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter()

#: Where pages link the stylesheet, below the app's root.
STYLESHEET = "/static/review.css"


@cache
def _css() -> bytes:
    return files("huizong.review").joinpath("static", "review.css").read_bytes()


@router.get(STYLESHEET)
def stylesheet(user: GetUserDep) -> Response:
    """Behind the login like every route (stewards and readers): it carries no data, but
    one rule for all routes."""
    del user
    return Response(
        _css(),
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "private, max-age=3600"},
    )
