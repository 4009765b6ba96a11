"""The row as the unit sent it: read back from the content-addressed store.

Ingest keeps every received file under ``store/<file_id>`` of the hand-over (possibly
with the original suffix; :func:`huizong.handover.fetch_stored` brings a copy to this
machine). The reader needs the suffix to pick xlsx or csv, so a suffix-less copy is read
through a temporary link named after the original file's suffix.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from huizong import handover
from huizong.catalogue import Catalogue
from huizong.settings import Settings


def stored_file(settings: Settings, file_id: str, file_name: str | None = None) -> Path | None:
    """The stored copy of a received file, or None if the store does not hold it."""
    if not file_id or "/" in file_id or "\\" in file_id or file_id.startswith("."):
        return None
    candidates = [file_id]
    if file_name:
        candidates.append(f"{file_id}{Path(file_name).suffix.lower()}")
    candidates.extend(handover.stored_names(settings, f"{file_id}."))
    return next((p for name in candidates if (p := handover.fetch_stored(settings, name))), None)


def read_original_rows(
    settings: Settings,
    catalogue: Catalogue,
    *,
    file_id: str,
    file_name: str,
    received_at: pd.Timestamp | None = None,
) -> pd.DataFrame | None:
    """All RECEIVED rows of one stored file, or None when the file is not in the store."""
    from huizong.ingest import read_submission

    path = stored_file(settings, file_id, file_name)
    if path is None:
        return None
    when = received_at if received_at is not None else pd.Timestamp.now(tz="UTC")
    suffix = Path(file_name or "").suffix.lower()
    if path.suffix.lower() in (".xlsx", ".csv") or not suffix:
        return read_submission(
            path, catalogue, file_id=file_id, file_name=file_name, received_at=when
        ).rows
    with tempfile.TemporaryDirectory(prefix="huizong-review-") as tmp:
        named = Path(tmp) / f"original{suffix}"
        shutil.copyfile(path, named)
        return read_submission(
            named, catalogue, file_id=file_id, file_name=file_name, received_at=when
        ).rows


def original_row(
    settings: Settings,
    catalogue: Catalogue,
    *,
    file_id: str,
    file_name: str,
    sheet: str,
    row_number: int,
    received_at: pd.Timestamp | None = None,
) -> pd.Series | None:
    """One RECEIVED row by its key, or None if the file or the row cannot be found."""
    rows = read_original_rows(
        settings, catalogue, file_id=file_id, file_name=file_name, received_at=received_at
    )
    if rows is None or rows.empty:
        return None
    hit = rows[(rows["sheet"].fillna("") == sheet) & (rows["row_number"] == int(row_number))]
    return None if hit.empty else hit.iloc[0]


def shown_original(settings: Settings, catalogue: Catalogue, issue: Any) -> pd.Series | None:
    """The original of an issue's row (``file_id``, ``file_name``, ``sheet``,
    ``row_number``) for a page: an unreadable original must not hide the page."""
    try:
        return original_row(
            settings,
            catalogue,
            file_id=str(issue["file_id"]),
            file_name=str(issue["file_name"]),
            sheet=str(issue["sheet"] or ""),
            row_number=int(issue["row_number"]),
        )
    except Exception:
        return None
