"""Which registry a deployment uses, and where ``huizong registry load`` keeps one it built.

Kept in the registry package (not in the pipeline) so that every step, the CLI and the
review app find the registry without importing the pipeline.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from huizong.registry.divisions import ORG_UNIT_COLUMNS, Registry, load_registry
from huizong.settings import Settings


def registry_for(settings: Settings) -> Registry:
    """The registry a deployment uses: explicit folder, else a loaded one, else the extract."""
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
