"""Airflow plugin: the stewards' review app under ``/huizong-review/``, linked in the UI nav.

The app (``huizong.review.app``) authenticates every route against Airflow's auth manager
itself; building it reads settings from the environment but touches no disk or database.
It is built on its first request (``huizong.review.mount``): every task process imports
this module too, and building the app there cost each task 1.9 s for nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

from huizong.review.mount import LazyApp, review_app

URL_PREFIX = "/huizong-review"

app = LazyApp(review_app)


class HuizongReviewPlugin(AirflowPlugin):
    name = "huizong_review"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": app, "url_prefix": URL_PREFIX, "name": "Huizong review"}
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "汇总审核 Review",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "url_route": "huizong-review",
        },
        {
            "name": "汇总下载 Downloads",
            "href": f"{URL_PREFIX}/downloads/",
            "destination": "nav",
            "url_route": "huizong-downloads",
        },
    ]
