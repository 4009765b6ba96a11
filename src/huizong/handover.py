"""Where the steps hand their files to each other, and where every received file is kept.

One place every worker reaches: ``Settings.handover`` (``HUIZONG_HANDOVER_URL``), read
through Airflow's object storage (:class:`airflow.sdk.ObjectStoragePath`, fsspec under
it), so the same code writes to a folder (``file:///…``, the default: ``HUIZONG_HOME``)
or to an object store (``s3://conn_id@bucket/prefix``, credentials from the Airflow
connection). Celery workers on different hosts then see each other's step outputs.

Layout under the URL::

    runs/<day>/<frame>.parquet   the frames of :mod:`huizong.frames`, one file per step output
    runs/<day>/<name>.json       small documents (the deadline's missing list)
    store/<sha256>               every file received, by content (the ledger's store)
    out/<day>/<workbook>.xlsx    the night's consolidated workbook

A frame is written under a per-process temporary name and renamed into place: a killed
writer never leaves half a file under the real name (on an object store the PUT of the
final object is itself atomic). Readers and writers of bytes that need a local file (the
Excel reader, the workbook writer) use this machine's ``Settings.store_dir`` /
``Settings.out_dir``: when the hand-over is a folder here, those *are* the hand-over's
folders and nothing is copied; otherwise files are uploaded after writing and fetched
before reading. The domain steps never see any of this: they take and return frames.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from huizong.settings import Settings

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

TMP_SUFFIX = ".tmp"


def root(settings: Settings) -> ObjectStoragePath:
    """The hand-over's root (imports Airflow's object storage on first use)."""
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(settings.handover)


def run_path(settings: Settings, day: date) -> ObjectStoragePath:
    """The day's step files."""
    return root(settings) / "runs" / day.isoformat()


def write_frame(settings: Settings, day: date, name: str, frame: pd.DataFrame) -> str:
    """Write one step output (parquet) atomically; its URL."""
    folder = run_path(settings, day)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = folder / f"{name}.{os.getpid()}{TMP_SUFFIX}"
    try:
        with tmp.open("wb") as fh:
            frame.to_parquet(fh, index=False)
            _fsync(fh)
        tmp.rename(target)
    finally:
        if tmp.exists():
            tmp.unlink()
        release_arrow_memory()  # the Arrow table the write built
    return str(target)


def read_frame(settings: Settings, day: date, name: str) -> pd.DataFrame:
    """One step output; a clear error when the earlier step has not written it."""
    path = run_path(settings, day) / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run the earlier steps for {day} first")
    with path.open("rb") as fh:
        frame = pd.read_parquet(fh)
    release_arrow_memory()
    return frame


def release_arrow_memory() -> None:
    """Hand the memory Arrow freed back to the system. Reading a frame decodes every
    column into Arrow buffers first; the numeric ones are copied into NumPy and freed,
    but Arrow's allocator keeps them: about 0.2 GB per national RECEIVED read, which no
    later step reuses (pandas allocates through NumPy) and which the peak then carries."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def frame_names(settings: Settings, day: date) -> list[str]:
    """Names of the day's step outputs present (sorted)."""
    folder = run_path(settings, day)
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".parquet"))


def delete_frame(settings: Settings, day: date, name: str) -> None:
    """Remove one step output, if present."""
    path = run_path(settings, day) / name
    if path.exists():
        path.unlink()


def clear_step_files(settings: Settings, day: date, keep: frozenset[str] = frozenset()) -> None:
    """Remove the step outputs (and temp files of killed writers) of an earlier run.

    ``keep``: frames left in place (the fast path rewrites only those that changed)."""
    folder = run_path(settings, day)
    if not folder.exists():
        return
    for path in folder.iterdir():
        if path.name in keep:
            continue
        if path.name.endswith((".parquet", TMP_SUFFIX)) and path.is_file():
            path.unlink()


def write_json(settings: Settings, day: date, name: str, document: Any) -> str:
    """A small JSON document beside the day's frames (atomically); its URL."""
    folder = run_path(settings, day)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = folder / f"{name}.{os.getpid()}{TMP_SUFFIX}"
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.rename(target)
    return str(target)


def read_json(settings: Settings, day: date, name: str) -> Any:
    return json.loads((run_path(settings, day) / name).read_text(encoding="utf-8"))


# ---- the store of received files ---------------------------------------------------------


def _remote_store(settings: Settings) -> ObjectStoragePath | None:
    """The hand-over's store when it is not this machine's ``store_dir``, else None."""
    if settings.handover_folder is not None:
        return None  # store_dir is the hand-over's store itself
    return root(settings) / "store"


def keep_stored(settings: Settings, digest: str) -> None:
    """Make ``store_dir/<digest>`` (just written by ingest) reachable by every worker."""
    remote = _remote_store(settings)
    if remote is None:
        return
    target = remote / digest
    if target.exists():
        return  # content-addressed: the same name holds the same bytes
    remote.mkdir(parents=True, exist_ok=True)
    tmp = remote / f".incoming-{os.getpid()}-{digest}"
    with (settings.store_dir / digest).open("rb") as src, tmp.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    tmp.rename(target)


def fetch_stored(settings: Settings, name: str) -> Path | None:
    """This machine's copy of ``store/<name>`` (fetched from the hand-over when only it
    holds the file), or None when the store has no such file."""
    local = settings.store_dir / name
    if local.is_file():
        return local
    remote = _remote_store(settings)
    if remote is None or not (remote / name).is_file():
        return None
    settings.store_dir.mkdir(parents=True, exist_ok=True)
    tmp = settings.store_dir / f".fetching-{os.getpid()}-{name}"
    with (remote / name).open("rb") as src, tmp.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    tmp.replace(local)
    return local


def stored_names(settings: Settings, prefix: str) -> list[str]:
    """Names in the store starting with ``prefix`` (e.g. ``<sha256>.``), sorted."""
    remote = _remote_store(settings)
    folder = settings.store_dir if remote is None else remote
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(prefix))


# ---- published files ---------------------------------------------------------------------


def out_path(settings: Settings, day: date) -> ObjectStoragePath:
    return root(settings) / "out" / day.isoformat()


def keep_output(settings: Settings, day: date, path: Path) -> str:
    """Make a file written under ``settings.out_dir(day)`` reachable; its URL."""
    target = out_path(settings, day) / path.name
    if settings.handover_folder is not None:
        return str(target)  # out_dir is the hand-over's folder itself
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{path.name}.{os.getpid()}{TMP_SUFFIX}"
    with path.open("rb") as src, tmp.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    tmp.rename(target)
    return str(target)


def _fsync(fh: Any) -> None:
    """Flush a local file to disk before its rename (object stores have no fileno)."""
    try:
        fh.flush()
        os.fsync(fh.fileno())
    except (AttributeError, OSError, ValueError):
        pass
