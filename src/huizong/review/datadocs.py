"""Data Docs for a steward whose units are part of the day: built on demand from the day's
RECEIVED rows in their scope, cached by what they were built from.

The night writes one site for the whole day (``<home>/data_docs/<day>/``); it shows unit
codes and values of every county, so only a steward whose scope covers the whole day is
served it. Anyone else gets a site of their own rows only: the same GX suite run over the
day's ``received.parquet`` filtered with the same scope rule as every other page
(:func:`huizong.review.scopes.in_scope`), rendered by the same builder the night uses.

Cache: ``<home>/data_docs_scoped/<day>/<scopes digest>/<source digest>/``; the source
digest is the size and modification time of the day's RECEIVED file, so a re-run (a new
file) builds afresh and the older builds of those scopes are removed. Nothing of the
request but the checked day and the steward's stored scopes names a folder.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pandas as pd

from huizong import frames, handover
from huizong.catalogue import Catalogue
from huizong.review.scopes import in_scope
from huizong.settings import Settings

SCOPED_DIR = "data_docs_scoped"
_BUILD = threading.Lock()  # one build at a time per process (GX is not cheap)


class NoScopedDocs(LookupError):
    """No Data Docs can be built for these units and day (HTTP 404)."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def scoped_docs(settings: Settings, catalogue: Catalogue, day: str, scopes: Iterable[str]) -> Path:
    """The folder of Data Docs showing only the rows of ``scopes`` for ``day`` (built if
    missing); raises :class:`NoScopedDocs` when the day's rows are gone or none is theirs."""
    scopes = sorted({str(s).strip() for s in scopes if str(s).strip()})
    when = date.fromisoformat(day)
    try:  # through the hand-over: the API server may share no disk with the workers
        received = handover.read_frame(settings, when, frames.RECEIVED) if scopes else None
    except FileNotFoundError:
        received = None
    if received is None:
        raise NoScopedDocs("该日的数据文档不可用 / no Data Docs for that day")
    hashed = pd.util.hash_pandas_object(received, index=False).to_numpy()
    content = hashlib.sha256(hashed).hexdigest()
    mine = settings.home / SCOPED_DIR / day / _digest(",".join(scopes))
    target = mine / _digest(f"{content}:{catalogue.form}")
    if (target / "index.html").is_file():
        return target
    with _BUILD:
        if (target / "index.html").is_file():
            return target
        rows = received[in_scope(received["unit_code"], scopes).to_numpy()]
        if rows.empty:
            raise NoScopedDocs(
                "您负责的单位在该日没有数据行 / none of your units has rows for that day"
            )
        from huizong.registry import registry_for
        from huizong.validate.datadocs import docs_for_rows

        docs_for_rows(when, target, rows.reset_index(drop=True), catalogue, registry_for(settings))
        for old in mine.iterdir():  # builds from an earlier run of the day
            if old != target and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)
    return target
