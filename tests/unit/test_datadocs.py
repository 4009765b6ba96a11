"""Data Docs per run: GX builds them, and no file of the site refers to another host."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.settings import Settings
from huizong.validate.datadocs import (
    CDN_FILES,
    VENDOR_DIR,
    data_docs_day,
    docs_dir,
    external_references,
)
from huizong.validate.sample import received_frame

DAY = date(2026, 11, 26)
F = "c" * 64
_LOCAL_REF = re.compile(r"""(?:src|href)\s*=\s*["']([^"'#?]+)""")
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')#?]+)""")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The day's docs for two failing rows and a clean one, built twice (a re-run)."""
    home = tmp_path_factory.mktemp("docs")
    settings = Settings(home=home)
    received = received_frame(
        load_catalogue(),
        [
            {"file_id": F, "unit_code": "130902001001", "persons_screened": 250_000},
            {"file_id": F, "unit_code": "130902001002", "suspected_cases": 11_000},
            {"file_id": F, "unit_code": "130902001012"},
        ],
    )
    settings.run_dir(DAY).mkdir(parents=True)
    received.to_parquet(settings.run_dir(DAY) / frames.RECEIVED, index=False)
    data_docs_day(DAY, settings)
    summary = data_docs_day(DAY, settings)  # the re-run replaces the site
    return docs_dir(home, DAY), summary


def test_pages_exist_for_the_run(site: tuple[Path, dict]) -> None:
    folder, summary = site
    assert summary["data_docs"] == str(folder / "index.html")
    assert summary["pages"] == 3
    validations = sorted(folder.glob("validations/epidemic_daily/2026-11-26/*/received.html"))
    assert len(validations) == 1  # the re-run replaced the first build
    assert (folder / "expectations" / "epidemic_daily.html").is_file()
    page = validations[0].read_text(encoding="utf-8")
    assert "persons_screened" in page and "250000" in page  # the failure is shown
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert validations[0].relative_to(folder).as_posix() in index
    assert not list(folder.parent.glob(".*"))  # no temp or old folder left behind


def test_no_file_refers_to_an_external_host(site: tuple[Path, dict]) -> None:
    folder, _ = site
    assert external_references(folder) == []
    for path in folder.rglob("*"):
        if path.suffix in (".html", ".css", ".js", ".svg"):
            text = path.read_text(encoding="utf-8")
            assert "cdn" not in text.lower() or path.is_relative_to(folder / VENDOR_DIR), path
            assert "amazonaws" not in text, path


def test_every_local_reference_resolves(site: tuple[Path, dict]) -> None:
    """Offline means the bundled copies are really there, at the depth each page needs."""
    folder, _ = site
    checked = 0
    for path in folder.rglob("*"):
        if path.suffix not in (".html", ".css"):
            continue
        text = path.read_text(encoding="utf-8")
        refs = _LOCAL_REF.findall(text) if path.suffix == ".html" else []
        refs += _CSS_URL.findall(text)
        for ref in refs:
            if ref.startswith(("data:", "javascript:")) or "{" in ref:
                continue
            assert (path.parent / ref).resolve().is_file(), f"{path.name}: {ref}"
            checked += 1
    assert checked > 20
    bundled = {p.name for p in (folder / VENDOR_DIR).iterdir() if p.is_file()}
    assert {f for f in CDN_FILES.values() if f} <= bundled


@pytest.mark.parametrize(
    "text",
    [
        '<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>',
        '<link rel="stylesheet" href="http://example.org/a.css">',
        '<img src="//cdn.example.com/logo.png">',
        "body { background: url('https://s3.amazonaws.com/x.png') }",
        '<a href="ftp:files">x</a>',
        "@import '//fonts.example.net/font.css';",
        "/*! Bootstrap (https://getbootstrap.com/) */",
    ],
)
def test_the_check_finds_each_kind_of_external_reference(tmp_path: Path, text: str) -> None:
    (tmp_path / "page.html").write_text(text, encoding="utf-8")
    assert len(external_references(tmp_path)) == 1


def test_xml_namespaces_and_relative_paths_are_not_references(tmp_path: Path) -> None:
    (tmp_path / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<use xlink:href="#a"/></svg>',
        encoding="utf-8",
    )
    (tmp_path / "a.css").write_text(
        "a{background:url(\"data:image/svg+xml,%3csvg xmlns='http://www.w3.org/2000/svg'%3e\")}"
        " b{background:url(../images/x.png)}",
        encoding="utf-8",
    )
    (tmp_path / "p.html").write_text(
        '<a href="../../index.html">Home</a><script src="./static/huizong/jquery.min.js">',
        encoding="utf-8",
    )
    assert external_references(tmp_path) == []


def test_docs_at_scale_keep_every_failing_row_and_a_bounded_sample(monkeypatch) -> None:
    from huizong.registry import load_registry
    from huizong.validate import datadocs
    from huizong.validate.rows import _prepared

    catalogue = load_catalogue()
    villages = load_registry().units.query("level == 5")["code"].head(40).tolist()
    rows = [{"file_id": F, "unit_code": code} for code in villages]
    rows[3]["persons_screened"] = -1
    rows[17]["unit_code"] = "130999999999"
    frame = _prepared(received_frame(catalogue, rows), catalogue, load_registry())
    monkeypatch.setattr(datadocs, "DOCS_ALL_ROWS", 10)
    monkeypatch.setattr(datadocs, "DOCS_SAMPLE_ROWS", 5)
    shown = datadocs.docs_rows(frame, catalogue, DAY)
    assert {5, 19} <= set(shown["row_number"])  # rows 3 and 17 (row numbers from 2)
    assert 5 <= len(shown) - 2 <= 5 + 1
    monkeypatch.setattr(datadocs, "DOCS_ALL_ROWS", 100)
    assert len(datadocs.docs_rows(frame, catalogue, DAY)) == 40


def test_docs_keep_every_row_when_gx_alone_knows_a_check(monkeypatch, tmp_path: Path) -> None:
    import json

    from huizong.registry import load_registry
    from huizong.validate import datadocs, suites
    from huizong.validate.rows import _prepared

    catalogue = load_catalogue()
    data = suites.load_suite_json(catalogue)
    data["expectations"].append(
        {
            "type": "expect_column_value_lengths_to_equal",
            "kwargs": {"column": "unit_code", "value": 12},
            "meta": {"rule": "unit_code_length", "column": "unit_code"},
        }
    )
    (tmp_path / f"{catalogue.form}.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("HUIZONG_EXPECTATIONS", str(tmp_path))
    monkeypatch.setattr(datadocs, "DOCS_ALL_ROWS", 2)
    monkeypatch.setattr(datadocs, "DOCS_SAMPLE_ROWS", 1)
    villages = load_registry().units.query("level == 5")["code"].head(6).tolist()
    rows = [{"file_id": F, "unit_code": code} for code in villages]  # all pass
    frame = _prepared(received_frame(catalogue, rows), catalogue, load_registry())
    assert len(datadocs.docs_rows(frame, catalogue, DAY)) == 6
    monkeypatch.delenv("HUIZONG_EXPECTATIONS")  # the shipped suite: a sample of one
    assert len(datadocs.docs_rows(frame, catalogue, DAY)) == 1
