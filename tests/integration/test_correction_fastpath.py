"""A steward's correction re-published by the fast path equals the full re-run of the day.

Two homes share one inbox and each publishes the demo day (version 1). A steward corrects
one village (the correction file lands in the shared inbox). One home re-runs the day
with ``trigger="correction"`` (the fast path: only the added file read, only changed
rows written); the other is made to take the full path (its inbox listing removed). Every
published table, the versions and the change reports, and every hand-over frame, must be
identical.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from helpers.corrections import correct_planted_value, published_tables
from huizong import handover
from huizong.demo import generate_demo_day
from huizong.ingest import added
from huizong.pipeline import INBOX_LISTING, PUBLISHED_HASHES, keep_published_hashes, run_day
from huizong.settings import Settings

pytestmark = pytest.mark.e2e

DAY = date(2020, 1, 28)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_warehouses(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield tuple(f"sqlite:///{tmp_path / name / 'warehouse.sqlite'}" for name in ("f", "g"))
        return
    fresh_pg = request.getfixturevalue("fresh_pg")
    with fresh_pg() as fast, fresh_pg() as full:
        yield fast, full


def test_fast_path_publishes_what_the_full_run_publishes(
    tmp_path: Path, two_warehouses: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    generate_demo_day(DAY, inbox / DAY.isoformat())
    fast, full = (
        Settings(home=tmp_path / name, inbox_root=inbox, warehouse_url=url)
        for name, url in zip(("fast", "full"), two_warehouses, strict=True)
    )
    for home in (fast, full):
        run_day(DAY, home, trigger="nightly")
    issue = correct_planted_value(fast, DAY)
    handover.write_json(full, DAY, INBOX_LISTING, None)  # no listing: the full path

    scans: list[Path] = []  # the real scan, counted: a national inbox takes a second

    def counted_scan(inbox: Path) -> list:
        scans.append(Path(inbox))
        return scan(inbox)

    scan = added._scan
    monkeypatch.setattr(added, "_scan", counted_scan)
    run_files = fast.run_dir(DAY)
    stat_before = {p.name: os.stat(p) for p in run_files.glob("*.parquet")}
    frames_before = {name: handover.read_frame(fast, DAY, name) for name in stat_before}
    quick = run_day(DAY, fast, trigger="correction")
    monkeypatch.undo()
    slow = run_day(DAY, full, trigger="correction")

    assert scans == [fast.inbox_for(DAY)]  # listed once, for the listing and the reading
    # a frame the correction did not change is left as it was, a changed one rewritten
    stat_after = {p.name: os.stat(p) for p in run_files.glob("*.parquet")}
    kept = set()
    for name in set(stat_after) & set(stat_before):
        a, b = stat_after[name], stat_before[name]
        if (a.st_ino, a.st_mtime_ns) == (b.st_ino, b.st_mtime_ns):
            kept.add(name)
    unchanged = {
        name
        for name in set(stat_after) & set(stat_before)
        if handover.read_frame(fast, DAY, name).equals(frames_before[name])
    }
    assert kept == unchanged and kept and "consolidated.parquet" not in kept
    assert not any(name.startswith("ingest_part_") for name in stat_after)
    assert quick["publish"]["path"] == "changed rows"
    assert quick["publish"]["old_side"] == "kept hashes"  # the nightly's publish kept them
    assert quick["ingest"]["files_read"] == 1
    # the corrected village's rows and its township file's, not the day's
    assert 0 < quick["validate"]["rows_validated"] < quick["validate"]["accepted"] / 10
    assert "path" not in slow["publish"]
    assert quick["publish"]["version"] == slow["publish"]["version"] == 2
    written = sum(quick["publish"]["written"].values())
    assert 0 < written < sum(quick["publish"]["rows"].values()) / 10
    a, b = published_tables(fast.warehouse, DAY), published_tables(full.warehouse, DAY)
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)
    township = str(issue["unit_code"])[:9]  # consolidated holds the village's ancestors
    assert township in set(a["changes_consolidated"]["unit_code"])
    for name in handover.frame_names(fast, DAY):
        pd.testing.assert_frame_equal(
            handover.read_frame(fast, DAY, name), handover.read_frame(full, DAY, name), obj=name
        )


def test_a_changed_earlier_file_takes_the_full_path(tmp_path: Path) -> None:
    """An earlier file edited in place (not a new revision) is read again: the full run."""
    inbox = tmp_path / "inbox"
    generate_demo_day(DAY, inbox / DAY.isoformat())
    home = Settings(home=tmp_path / "home", inbox_root=inbox)
    run_day(DAY, home, trigger="nightly")
    victim = sorted((inbox / DAY.isoformat()).rglob("*.xlsx"))[0]
    stat = victim.stat()  # same bytes, a new mtime: it may have changed
    os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    summary = run_day(DAY, home, trigger="correction")
    assert "files_read" not in summary["ingest"]
    assert summary["publish"]["unchanged"]


def test_a_day_published_without_kept_hashes_still_takes_the_fast_path(tmp_path: Path) -> None:
    """A day published by code that kept no hashes: the fast path types the old day
    itself, and the hashes made afterwards are what a publish keeps."""
    inbox = tmp_path / "inbox"
    generate_demo_day(DAY, inbox / DAY.isoformat())
    home = Settings(home=tmp_path / "home", inbox_root=inbox)
    run_day(DAY, home, trigger="nightly")
    published = handover.read_frame(home, DAY, PUBLISHED_HASHES)
    handover.delete_frame(home, DAY, PUBLISHED_HASHES)
    assert keep_published_hashes(DAY, home)  # made from the run files, checked
    pd.testing.assert_frame_equal(handover.read_frame(home, DAY, PUBLISHED_HASHES), published)
    handover.delete_frame(home, DAY, PUBLISHED_HASHES)
    correct_planted_value(home, DAY)
    quick = run_day(DAY, home, trigger="correction")
    assert quick["publish"]["path"] == "changed rows"
    assert quick["publish"]["old_side"] == "typed old day"
    after = handover.read_frame(home, DAY, PUBLISHED_HASHES)
    assert not after.equals(published)  # version 2's hashes
    handover.delete_frame(home, DAY, PUBLISHED_HASHES)
    assert keep_published_hashes(DAY, home)
    pd.testing.assert_frame_equal(handover.read_frame(home, DAY, PUBLISHED_HASHES), after)
