"""The hand-over: steps of one day run on "machines" that share nothing but its URL.

Each step below runs with its own ``HUIZONG_HOME`` (another worker's local disk) and the
same hand-over URL: a ``file://`` folder elsewhere, and ``local://``, which Airflow's
object storage serves with fsspec's local filesystem but which the project treats like
any object store (upload after writing, fetch before reading), so that path is exercised
for real without an S3 server.
"""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from huizong import frames, handover, pipeline
from huizong.catalogue import load_catalogue
from huizong.review.original import read_original_rows, stored_file
from huizong.settings import Settings

DAY = date(2026, 11, 26)
HEADER = "单位代码,单位名称,日期,排查登记人数,入户走访户数,新增返乡人员"
ROWS = ["130902001001,建北社区,2026-11-26,1,2,3", "130902001002,院东社区,2026-11-26,4,-5,6"]


def _inbox(tmp_path: Path) -> tuple[Path, Path]:
    inbox = tmp_path / "inbox"
    (inbox / DAY.isoformat()).mkdir(parents=True)
    path = inbox / DAY.isoformat() / "a.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return inbox, path


def _worker(tmp_path: Path, name: str, url: str, inbox: Path) -> Settings:
    """One worker's settings: its own home, the shared warehouse, inbox and hand-over."""
    return Settings(
        home=tmp_path / name,
        handover_url=url,
        inbox_root=inbox,
        warehouse_url=f"sqlite:///{tmp_path / 'warehouse.sqlite'}",
    )


def _files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("scheme", ["file", "local"])
def test_each_step_on_another_worker_through_the_handover(tmp_path: Path, scheme: str) -> None:
    shared = tmp_path / "shared"
    url = f"{scheme}://{shared}"
    inbox, sent = _inbox(tmp_path)
    steps = ["ingest_day", "validate_day", "rollup_day", "publish_day", "workbook_day"]
    workers = [_worker(tmp_path, f"worker{i}", url, inbox) for i in range(len(steps))]
    for step, settings in zip(steps, workers, strict=True):
        getattr(pipeline, step)(DAY, settings)

    files = _files_under(shared)
    run = f"runs/{DAY.isoformat()}"
    expected_frames = {
        frames.RECEIVED,
        frames.TOTALS,
        frames.LEDGER,
        frames.ACCEPTED,
        frames.QUARANTINE,
        frames.WARNINGS,
        frames.ACCOUNTED_LEDGER,
        frames.CONSOLIDATED,
        frames.COMPLETENESS,
        frames.MISSING,
    }
    assert {f"{run}/{name}" for name in expected_frames} <= files
    assert not [f for f in files if f.endswith(handover.TMP_SUFFIX)]
    sha = hashlib.sha256(sent.read_bytes()).hexdigest()
    assert (shared / "store" / sha).read_bytes() == sent.read_bytes()  # the ledger's store
    workbook = f"out/{DAY.isoformat()}/huizong_1309_{DAY.isoformat()}.xlsx"
    assert workbook in files
    # no worker's own disk holds a step output the next one would have needed
    for settings in workers:
        assert not [p for p in settings.home.rglob("*.parquet")], settings.home
    quarantine = handover.read_frame(workers[-1], DAY, frames.QUARANTINE)
    assert quarantine["rule"].tolist() == ["min:households_visited"]
    ledger = handover.read_frame(workers[-1], DAY, frames.ACCOUNTED_LEDGER)
    assert ledger[["rows_received", "rows_accepted", "rows_quarantined"]].values.tolist() == [
        [2, 1, 1]
    ]

    # the review page, on yet another machine, shows the original row from the store
    reviewer = _worker(tmp_path, "api-server", url, inbox)
    path = stored_file(reviewer, sha, "a.csv")
    assert path is not None and path.read_bytes() == sent.read_bytes()
    rows = read_original_rows(reviewer, load_catalogue(), file_id=sha, file_name="a.csv")
    assert rows is not None and rows["unit_code"].tolist() == ["130902001001", "130902001002"]
    if scheme == "local":  # an object store: the reviewer fetched its own copy
        assert path == reviewer.store_dir / sha
        assert (workers[0].store_dir / sha).is_file()  # ingest's local copy, then uploaded
    else:  # a folder here: read in place, nothing copied
        assert path == shared / "store" / sha
        assert not (reviewer.home / "store").exists()


def test_a_rerun_clears_the_handover_and_gives_the_same_frames(tmp_path: Path) -> None:
    """What ``run_day`` does first: a killed writer's temp file and the old outputs go."""
    inbox, _ = _inbox(tmp_path)
    url = f"local://{tmp_path / 'shared'}"
    first = _worker(tmp_path, "a", url, inbox)
    pipeline.ingest_day(DAY, first)
    before = {n: handover.read_frame(first, DAY, n) for n in handover.frame_names(first, DAY)}
    folder = tmp_path / "shared" / "runs" / DAY.isoformat()
    (folder / f"{frames.ACCEPTED}.4242{handover.TMP_SUFFIX}").write_bytes(b"PAR1 half a file")
    second = _worker(tmp_path, "b", url, inbox)
    handover.clear_step_files(second, DAY)
    # frames and temp files go; the documents beside them (the inbox listings, the days
    # the late files went to) stay
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [pipeline.INBOX_LISTING, pipeline.PLANNED_LISTING, pipeline.LATE_ROUTES]
    )
    pipeline.ingest_day(DAY, second)
    after = {n: handover.read_frame(second, DAY, n) for n in handover.frame_names(second, DAY)}
    parts = [f"ingest_part_0_{kind}.parquet" for kind in ("received", "totals", "outcome")]
    steps = [frames.RECEIVED, frames.LEDGER, frames.TOTALS, pipeline.INGEST_PLAN, *parts]
    assert sorted(before) == sorted(after) == sorted(steps)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name])


def test_a_missing_step_output_names_the_url(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h", handover_url=f"local://{tmp_path / 's'}")
    with pytest.raises(FileNotFoundError, match=r"local://.*/runs/2026-11-26/accepted.parquet"):
        handover.read_frame(settings, DAY, frames.ACCEPTED)


def test_settings_read_the_url_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HUIZONG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HUIZONG_HANDOVER_URL", raising=False)
    default = Settings.from_env()
    assert default.handover == f"file://{tmp_path / 'home'}"
    assert default.run_dir(DAY) == tmp_path / "home" / "runs" / DAY.isoformat()  # as before
    assert default.store_dir == tmp_path / "home" / "store"
    monkeypatch.setenv("HUIZONG_HANDOVER_URL", f"file://{tmp_path}/shared/")
    shared = Settings.from_env()
    assert shared.handover == f"file://{tmp_path}/shared"
    assert shared.store_dir == tmp_path / "shared" / "store"
    assert shared.out_dir(DAY) == tmp_path / "shared" / "out" / DAY.isoformat()
    monkeypatch.setenv("HUIZONG_HANDOVER_URL", "s3://huizong_s3@bucket/nightly/")
    remote = Settings.from_env()
    assert remote.handover == "s3://huizong_s3@bucket/nightly"
    assert remote.handover_folder is None
    assert remote.store_dir == tmp_path / "home" / "store"  # a cache of the bucket's store
    monkeypatch.setenv("HUIZONG_HANDOVER_URL", os.path.join("relative", "folder"))
    with pytest.raises(ValueError, match=r"HUIZONG_HANDOVER_URL.*expected a URL"):
        Settings.from_env()
