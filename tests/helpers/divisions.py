"""Division folders written like the official files (gzip CSV per level + departments)."""

from __future__ import annotations

import gzip
from pathlib import Path

from huizong.registry import Registry, load_registry


def _write_csv(path: Path, header: str, rows: list[tuple]) -> None:
    lines = [header] + [",".join(f'"{v}"' for v in row) for row in rows]
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def write_division_folder(folder: Path, spec: dict, departments: list[tuple]) -> Path:
    """``spec``: provinces, cities, areas, streets, villages as (code, name[, parent])
    tuples; ``departments``: (code, name, parent). Returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(folder / "provinces.csv.gz", "code,name", spec["provinces"])
    _write_csv(folder / "cities.csv.gz", "code,name,provinceCode", spec["cities"])
    _write_csv(
        folder / "areas.csv.gz",
        "code,name,cityCode,provinceCode",
        [(c, n, p, c[:2]) for c, n, p in spec["areas"]],
    )
    _write_csv(
        folder / "streets.csv.gz",
        "code,name,areaCode,provinceCode,cityCode",
        [(c, n, c[:6], c[:2], c[:4]) for c, n in spec["streets"]],
    )
    _write_csv(
        folder / "villages.csv.gz",
        "code,name,streetCode,provinceCode,cityCode,areaCode",
        [(c, n, c[:9], c[:2], c[:4], c[:6]) for c, n in spec["villages"]],
    )
    toml = "".join(
        f'[[department]]\ncode = "{c}"\nname = "{n}"\nparent = "{p}"\n\n' for c, n, p in departments
    )
    (folder / "departments.toml").write_text(toml or "# none\n", encoding="utf-8")
    return folder


def build_registry(folder: Path, spec: dict, departments: list[tuple]) -> Registry:
    """Write a division folder + department TOML like the official files and load it."""
    write_division_folder(folder, spec, departments)
    return load_registry(folder, folder / "departments.toml")
