"""Great Expectations Data Docs for every run, in a folder per day, readable with no internet.

GX renders the pages (``SiteBuilder`` over a validation result), but its templates load
bootstrap, jquery, font-awesome and friends from public CDNs and the logo from S3. A
government network has no internet, so after GX has written the site every page is
rewritten: CDN ``<link>``/``<script>`` tags point at copies bundled in
``datadocs_assets/vendor`` (copied into ``static/huizong/``), unused ones (vega, the dark
theme) are dropped, images point at GX's own ``static/images``, and links to GX's web
site lose their ``href``. :func:`external_references` is the check the tests run.

The site is built in a sibling temp folder and swapped in, so a re-run replaces the
day's docs in one step and a reader never sees half a site. GX is imported inside the
functions (importing it costs seconds).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from huizong import frames

ASSETS = Path(__file__).with_name("datadocs_assets") / "vendor"
#: Where the bundled files go inside a site.
VENDOR_DIR = "static/huizong"
SITE_NAME = "huizong"

#: CDN address (prefix) → bundled file; None = drop the tag (not used by our pages).
CDN_FILES: dict[str, str | None] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control": "bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": "bootstrap-table-filter-control.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/": (
        "bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/": (
        "bootstrap-datepicker.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/vega": None,  # vega, vega-lite, vega-embed: charts only
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark": None,  # dark theme
}
S3_IMAGES = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
LOGO = "static/images/logo-long.png"

_URL = r"(?:https?:)?//[^\"'\s)>]+"
_TAG = re.compile(
    r"<(script|link)\b[^>]*?\b(?:src|href)\s*=\s*[\"'](" + _URL + r")[\"'][^>]*>(?:\s*</script>)?",
    re.IGNORECASE,
)
_INTEGRITY = re.compile(r"\s(?:integrity|crossorigin)\s*=\s*[\"'][^\"']*[\"']", re.IGNORECASE)
_ANCHOR_HREF = re.compile(r"(<a\b[^>]*?)\s+href\s*=\s*[\"']" + _URL + r"[\"']", re.IGNORECASE)
_S3 = re.compile(re.escape(S3_IMAGES) + r"[^\"'\s)]*")
_FAVICON = re.compile(r"href=\"[^\"]*static/images/favicon\.ico\"")  # GX gets its depth wrong
_SVG_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
#: XML namespace names look like URLs but are never fetched.
XMLNS = re.compile(r"xmlns(?::\w+)?\s*=\s*(?:\\?[\"'])?https?://www\.w3\.org/[^\"'\\\s>]*")
#: Anything that could make a browser (or a reader) go to another host.
EXTERNAL = re.compile(
    r"\b(?:src|href|action|srcset|poster)\s*=\s*[\"']?\s*(?!data:|javascript:)"
    r"(?:[a-z][a-z0-9+.-]*:|//)[^\"'\s>]*"  # an attribute naming a scheme or a host
    r"|url\(\s*[\"']?\s*(?!data:)(?:[a-z][a-z0-9+.-]*:|//)[^\"'\s)]*"  # CSS url()
    r"|(?:[a-z][a-z0-9+.-]*:)?//[a-z0-9-]+(?:\.[a-z0-9-]+)+",  # scheme://host or //host
    re.IGNORECASE,
)
TEXT_SUFFIXES = {".html", ".htm", ".css", ".js", ".svg", ".json", ".txt", ".md", ".xml"}


@dataclass(frozen=True)
class DocsBuild:
    """Where the day's Data Docs are and how long GX and the rewrite took."""

    folder: Path
    index: Path
    pages: int
    seconds: float
    #: Candidate rows of the day, and how many of them the pages' validation saw.
    rows: int | None = None
    rows_validated: int | None = None


def docs_dir(home: Path, day: date) -> Path:
    """``<home>/data_docs/<day>/``: the folder the review app serves for that run."""
    return home / "data_docs" / day.isoformat()


def validation_for_docs(frame: pd.DataFrame, suite: Any, day: date) -> Any:
    """One SUMMARY validation of ``frame`` (counts and the first failing values per
    expectation: what a page can show).

    Row checks see only the columns they use, copied into one block (GX copies the frame
    per expectation); the other columns are present as one-byte placeholders so the
    table-level checks (columns present) see the frame's real shape.
    """
    from huizong.validate import runner

    used: set[str] = set()
    for exp in suite.to_json_dict()["expectations"]:
        used |= runner._columns_used(exp)
    keep = [c for c in frame.columns if c in used or c in frames.ROW_KEY]
    slim = frame[keep].copy()
    rest = [c for c in frame.columns if c not in keep]
    placeholders = pd.DataFrame(False, index=slim.index, columns=rest)
    slim = pd.concat([slim, placeholders], axis=1)[list(frame.columns)]
    return runner._validate(runner._batch(slim), suite, day, "SUMMARY")


def build_data_docs(
    result: Any, suite: Any, day: date, target: Path, *, run_time: datetime | None = None
) -> DocsBuild:
    """Render ``result`` (a GX validation of ``suite``) and the suite as a Data Docs site.

    ``target`` is replaced as a whole; the pages are then made offline-safe.
    """
    import time

    from huizong.validate.suites import import_gx

    started = time.perf_counter()
    gx = import_gx()
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.add_data_docs_site(
            SITE_NAME,
            {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(work),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        context.suites.add(gx.ExpectationSuite(**suite.to_json_dict()))
        suite_id = ExpectationSuiteIdentifier(name=suite.name)
        ident = ValidationResultIdentifier(
            expectation_suite_identifier=suite_id,
            run_id=RunIdentifier(run_name=day.isoformat(), run_time=run_time or datetime.now(UTC)),
            batch_identifier="received",
        )
        context.validation_results_store.set(ident, result)
        context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=[suite_id, ident])
        pages = make_offline(work)
        _swap(work, target)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return DocsBuild(target, target / "index.html", pages, time.perf_counter() - started)


def _swap(work: Path, target: Path) -> None:
    """Put the new site in place; the old one (if any) is removed after the rename."""
    old = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.old")
    if target.exists():
        os.replace(target, old)
    os.replace(work, target)
    shutil.rmtree(old, ignore_errors=True)


# ---- offline rewrite --------------------------------------------------------------------


def make_offline(site: Path) -> int:
    """Rewrite every page of a GX site to use bundled assets only; returns the page count."""
    vendor = site / VENDOR_DIR
    shutil.copytree(ASSETS, vendor, dirs_exist_ok=True)
    pages = 0
    for path in sorted(site.rglob("*")):
        if not path.is_file() or path.is_relative_to(vendor):
            continue
        if path.suffix == ".html":
            to_root = os.path.relpath(site, path.parent).replace(os.sep, "/")
            path.write_text(_page(path.read_text(encoding="utf-8"), to_root), encoding="utf-8")
            pages += 1
        elif path.suffix == ".css":
            to_root = os.path.relpath(site, path.parent).replace(os.sep, "/")
            text = _S3.sub(f"{to_root}/{LOGO}", path.read_text(encoding="utf-8"))
            path.write_text(text, encoding="utf-8")
        elif path.suffix == ".svg":  # editor comments carry a web address
            text = _SVG_COMMENT.sub("", path.read_text(encoding="utf-8"))
            path.write_text(text, encoding="utf-8")
    return pages


def _page(html: str, to_root: str) -> str:
    def local(match: re.Match[str]) -> str:
        tag, url = match.group(1).lower(), match.group(2)
        found = next((CDN_FILES[p] for p in CDN_FILES if url.startswith(p)), None)
        if found is None:  # unused (vega, dark theme) or unknown: drop rather than fetch
            return ""
        href = f"{to_root}/{VENDOR_DIR}/{found}"
        if tag == "script":
            return f'<script src="{href}"></script>'
        return f'<link rel="stylesheet" href="{href}">'

    html = _TAG.sub(local, html)
    html = _INTEGRITY.sub("", html)
    html = _S3.sub(f"{to_root}/{LOGO}", html)
    html = _FAVICON.sub(f'href="{to_root}/static/images/favicon.ico"', html)
    return _ANCHOR_HREF.sub(r"\1", html)


def external_references(site: Path) -> list[tuple[Path, str]]:
    """Every (file, text) in ``site`` that refers to another host; XML namespace names
    (``xmlns="http://www.w3.org/..."``, e.g. in SVG and CSS data: URIs) are not fetches
    and are ignored. Binary files are skipped (images and fonts hold no addresses)."""
    found = []
    for path in sorted(site.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in TEXT_SUFFIXES:
            continue
        text = XMLNS.sub("xmlns=", path.read_text(encoding="utf-8", errors="replace"))
        found += [(path, m.group(0)) for m in EXTERNAL.finditer(text)]
    return found


def docs_for_day(
    day: date, home: Path, received: pd.DataFrame, catalogue: Any, registry: Any
) -> DocsBuild:
    """Validate the day's candidate rows for the record and build its Data Docs.

    The pages show GX's own view (before stewards' waivers); the day's quarantine and
    warnings files remain the source of truth for what was published.
    """
    return docs_for_rows(day, docs_dir(home, day), received, catalogue, registry)


#: Up to this many candidate rows the Data Docs validate every row; above it (a province,
#: the nation) they validate every row that fails a check plus an even sample of the rest.
DOCS_ALL_ROWS = 20_000
#: Size of that sample of passing rows.
DOCS_SAMPLE_ROWS = 5_000


def docs_rows(frame: pd.DataFrame, catalogue: Any, day: date) -> pd.DataFrame:
    """The rows the day's Data Docs validate: all of a small day; at scale, every row that
    fails an expectation (found by the vectorised pass) and every k-th other row, at most
    DOCS_SAMPLE_ROWS of them. The pages' failure lists stay complete while their cost stays
    bounded; the day's quarantine and warnings files hold the exact counts. When the suite
    holds a check only GX evaluates, its failing rows are unknown here: every row is kept."""
    from huizong.validate.fast import split_suite
    from huizong.validate.suites import load_suite_json

    if len(frame) <= DOCS_ALL_ROWS:
        return frame
    done, for_gx = split_suite(frame, load_suite_json(catalogue), day)
    if for_gx:
        return frame
    failing = np.zeros(len(frame), dtype=bool)
    for _, mask in done:
        failing |= mask
    passing = np.flatnonzero(~failing)
    step = max(1, -(-len(passing) // DOCS_SAMPLE_ROWS))
    keep = failing.copy()
    keep[passing[::step]] = True
    return frame[keep].reset_index(drop=True)


def docs_for_rows(
    day: date, target: Path, received: pd.DataFrame, catalogue: Any, registry: Any
) -> DocsBuild:
    """Data Docs of some RECEIVED rows (the whole day, or one steward's units) in ``target``
    (at scale, of the rows :func:`docs_rows` picks)."""
    import time

    from huizong.validate.rows import _prepared, candidates_of
    from huizong.validate.suites import load_suite

    started = time.perf_counter()
    suite = load_suite(catalogue)
    frame = _prepared(candidates_of(received), catalogue, registry)
    shown = docs_rows(frame, catalogue, day)
    result = validation_for_docs(shown, suite, day)
    built = build_data_docs(result, suite, day, target)
    return DocsBuild(
        built.folder,
        built.index,
        built.pages,
        time.perf_counter() - started,
        rows=len(frame),
        rows_validated=len(shown),
    )


def data_docs_day(day: date, settings: Any) -> dict[str, Any]:
    """The DAG's ``data_docs`` step: Data Docs of the day's RECEIVED rows.

    A step of its own after validate (beside roll-up: the totals never wait for it)
    because it costs a second GX validation; at scale that validation sees the failing
    rows and a bounded sample (:func:`docs_rows`), not the whole day.
    """
    from huizong import handover
    from huizong.catalogue import load_catalogue
    from huizong.registry import registry_for

    built = docs_for_day(
        day,
        settings.handover_folder or settings.home,  # = settings.data_docs_dir(day)
        handover.read_frame(settings, day, frames.RECEIVED),
        load_catalogue(settings.form),
        registry_for(settings),
    )
    return {
        "day": day.isoformat(),
        "data_docs": str(built.index),
        "pages": built.pages,
        "rows": built.rows,
        "rows_validated": built.rows_validated,
        "seconds": round(built.seconds, 2),
    }
