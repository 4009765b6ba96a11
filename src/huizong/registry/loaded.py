"""Which registry a deployment uses, and where ``huizong registry load`` keeps one it built.

Kept in the registry package (not in the pipeline) so that every step, the CLI and the
review app find the registry without importing the pipeline.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from huizong.registry.divisions import ORG_UNIT_COLUMNS, Registry, load_registry, shipped_extract
from huizong.settings import Settings

#: The last registry read in this process, by the fingerprint of the files it was read
#: from: a night's steps in one process (``huizong run``, ``airflow dags test``, a review
#: app answering requests) read it once, not once per step (620 k units at nation).
_LAST: dict[tuple, Registry] = {}


def registry_for(settings: Settings) -> Registry:
    """The registry a deployment uses: explicit folder, else a loaded one, else the extract.

    Read once per process while its files are unchanged; each caller gets its own
    (copy-on-write) view of the units, so a caller that adds a column changes nobody's."""
    sources = _sources(settings)
    key = tuple((str(p), _fingerprint(p)) for p in sources if p is not None)
    registry = _LAST.get(key)
    if registry is None:
        registry = _read(settings)
        _LAST.clear()  # one registry held, never a growing collection of them
        _LAST[key] = registry
    return Registry(units=registry.units.copy(deep=False), root=registry.root)


def _sources(settings: Settings) -> tuple[Path | None, ...]:
    """The files :func:`_read` reads, in the order it chooses between them."""
    if settings.divisions is not None:
        return (Path(settings.divisions), _path(settings.departments))
    if settings.loaded_registry.exists():
        return (settings.loaded_registry, settings.loaded_registry.with_suffix(".root"))
    return (shipped_extract(), _path(settings.departments))


def _path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


#: Files up to this size are fingerprinted by their content (a departments file
#: rewritten within the file system's clock tick keeps its time), larger ones by their
#: size and time (the national division files: tens of MB, never edited in place).
_HASHED_UP_TO = 1 << 20


def _fingerprint(path: Path) -> tuple:
    """What identifies the content of a file, or of every file below a folder."""
    if path.is_dir():
        files = sorted(f for f in path.rglob("*") if f.is_file())
        return tuple((str(f.relative_to(path)), *_fingerprint(f)) for f in files)
    if not path.exists():
        return ()
    stat = path.stat()
    if stat.st_size <= _HASHED_UP_TO:
        return (hashlib.sha1(path.read_bytes()).hexdigest(),)
    return (stat.st_size, stat.st_mtime_ns)


def _read(settings: Settings) -> Registry:
    if settings.divisions is not None:
        return load_registry(settings.divisions, settings.departments)
    if settings.loaded_registry.exists():
        units = pd.read_parquet(settings.loaded_registry)
        root = _read_root(settings.loaded_registry)
        return Registry(units=units.reindex(columns=ORG_UNIT_COLUMNS), root=root)
    return load_registry(None, settings.departments)


def _read_root(path: Path) -> str:
    return path.with_suffix(".root").read_text(encoding="utf-8").strip()


def save_registry(registry: Registry, settings: Settings) -> Path:
    """Persist a registry built by ``huizong registry load`` for later runs."""
    target = settings.loaded_registry
    target.parent.mkdir(parents=True, exist_ok=True)
    registry.units.to_parquet(target, index=False)
    target.with_suffix(".root").write_text(registry.root + "\n", encoding="utf-8")
    return target
