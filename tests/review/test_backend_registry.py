"""The review app reads the registry the night uses, and again after ``huizong registry
load`` replaced it: a steward never has to ask for a restart to see new units."""

from __future__ import annotations

import os
from pathlib import Path

from huizong.registry import load_registry
from huizong.registry.divisions import Registry
from huizong.registry.loaded import save_registry
from huizong.review.deps import Backend
from huizong.settings import Settings


def test_the_app_reads_a_registry_loaded_after_it_started(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, warehouse_url=f"sqlite:///{tmp_path / 'w.sqlite'}")
    backend = Backend(settings, None)
    shipped = backend.registry
    assert backend.registry is shipped  # read once while nothing changes

    county = shipped.units.loc[shipped.units["level"] == 3, "code"].iloc[0]
    kept = shipped.units["code"].str.startswith(county[:6]) | (shipped.units["level"] < 3)
    smaller = Registry(units=shipped.units[kept].reset_index(drop=True), root=shipped.root)
    path = save_registry(smaller, settings)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))

    assert len(backend.registry.units) == len(smaller.units) < len(shipped.units)
    assert len(load_registry(None, settings.departments).units) == len(shipped.units)
