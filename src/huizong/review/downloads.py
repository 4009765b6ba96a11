"""The agencies' downloads (汇总下载): which published days a unit has, the file for one
unit+period+format (generated on first request, cached under ``$HUIZONG_HOME/out/``), and
the RFC 5987 ``Content-Disposition`` that carries its Chinese name.

A request names a unit code, a period label and a format from :data:`FORMATS` — never a
path: the cache path is built here from those three and a digest of the published rows,
so a re-published day gets a new file.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from sqlalchemy.engine import Engine

from huizong.catalogue import Catalogue
from huizong.periods import Period
from huizong.registry import Registry
from huizong.review import store

#: format → (media type, what the file is called in Chinese)
FORMATS: dict[str, tuple[str, str]] = {
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "汇总表",
    ),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "情况汇报",
    ),
    "txt": ("text/plain; charset=utf-8", "情况汇报"),
}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = _SAFE.sub("_", fallback).strip("_") or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_names(unit_name: str, unit_code: str, period: Period, fmt: str) -> tuple[str, str]:
    """(Chinese name, ASCII fallback) of a download."""
    kind = FORMATS[fmt][1]
    return (
        f"{unit_name}{period.label}{kind}.{fmt}",
        f"{unit_code}_{period.label}_{'workbook' if fmt == 'xlsx' else 'report'}.{fmt}",
    )


def published_days(engine: Engine, unit_code: str) -> list[str]:
    """The days ``unit_code`` was published, latest first (none before the first publish)."""
    if not all(store.has_table(engine, t) for t in ("consolidated", "completeness", "report")):
        return []  # a warehouse the night never published to
    with engine.connect() as conn:
        rows = conn.execute(store.statement("select_published_days_unit"), {"unit_code": unit_code})
        return [str(r[0])[:10] for r in rows]


def _digest(consolidated: pd.DataFrame) -> str:
    """What the published rows are: a re-published day with other figures has another."""
    hashed = pd.util.hash_pandas_object(consolidated.astype("str"), index=False)
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()[:16]


def build(
    home: Path,
    url: str,
    unit_code: str,
    period: Period,
    fmt: str,
    registry: Registry,
    catalogue: Catalogue,
) -> Path:
    """The cached file of ``unit_code``'s ``period`` in ``fmt``, written if not yet there."""
    from huizong.publish import unit_report

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    tables = unit_report.load_unit_tables(url, unit_code, period, registry, catalogue)
    folder = home / "out" / "downloads" / unit_code / period.label
    path = folder / f"{_digest(tables.consolidated)}.{fmt}"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        return unit_report.write_unit_workbook(path, tables, registry, catalogue)
    context = unit_report.progress_context(tables, registry, catalogue, date.today())
    text = unit_report.render_progress_text(context)
    return unit_report.write_progress_report(path, text, fmt)
