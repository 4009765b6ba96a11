"""The demo day's published tables are exactly those of the stored digest.

Guards refactors (e.g. the production-scale work) that must not change a single published
value: the digest of every daily table of the demo day, run through the whole pipeline,
must equal ``demo_day_digest.json``, on SQLite and on PostgreSQL alike.

When a change is *meant* to alter the outputs (a new rule, a new column), re-bless the
stored digest and commit it with that change, saying why in the message:

    make bless-digest      # = HUIZONG_BLESS_DIGEST=1 pytest tests/integration/test_demo_digest.py

A column added to a table leaves the digest alone (it covers the stored column list);
run the bless to take the new column in.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from helpers.digest import STORED, changed_from_stored, day_digest
from huizong.catalogue import load_catalogue
from huizong.demo import generate_demo_day
from huizong.pipeline import run_day
from huizong.settings import Settings

DAY = date(2020, 1, 28)


@pytest.fixture(scope="module")
def demo_inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    inbox = tmp_path_factory.mktemp("inbox") / DAY.isoformat()
    generate_demo_day(DAY, inbox)
    return inbox


def test_demo_day_tables_match_stored_digest(
    tmp_path: Path, warehouse_url: str, demo_inbox: Path
) -> None:
    run_day(DAY, Settings(home=tmp_path / "var", warehouse_url=warehouse_url), demo_inbox)
    catalogue = load_catalogue()
    if os.environ.get("HUIZONG_BLESS_DIGEST") == "1" and warehouse_url.startswith("sqlite"):
        digest = day_digest(warehouse_url, DAY, catalogue)
        STORED.write_text(json.dumps(digest, indent=1, ensure_ascii=False) + "\n")
    changed = changed_from_stored(warehouse_url, DAY, catalogue)
    assert not changed, (
        f"published tables of the demo day changed: {changed}. If intended, run "
        "`make bless-digest` and commit tests/integration/demo_day_digest.json with the change"
    )


def test_demo_day_through_a_handover_elsewhere_matches_stored_digest(
    tmp_path: Path, demo_inbox: Path
) -> None:
    """The same tables when the steps hand over through another folder than their home
    (what Celery workers sharing only ``HUIZONG_HANDOVER_URL`` do)."""
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    shared = tmp_path / "shared"
    settings = Settings(home=tmp_path / "var", warehouse_url=url, handover_url=f"file://{shared}")
    run_day(DAY, settings, demo_inbox)
    changed = changed_from_stored(url, DAY, load_catalogue())
    assert not changed, f"published tables of the demo day changed: {changed}"
    assert (shared / "runs" / DAY.isoformat() / "consolidated.parquet").is_file()
    assert not list((tmp_path / "var").rglob("*.parquet"))


def test_demo_day_ingested_in_partitions_read_out_of_order_matches_stored_digest(
    tmp_path: Path, demo_inbox: Path
) -> None:
    """The partitioned ingest the nightly DAG maps (issue 11): the plan on one worker,
    the partitions read in reverse order by two others, the merge on the first — the
    published tables are those of one read of the whole inbox."""
    from huizong import pipeline

    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    shared = f"file://{tmp_path / 'shared'}"

    def worker(name: str) -> Settings:
        return Settings(
            home=tmp_path / name, warehouse_url=url, handover_url=shared, ingest_part_files=17
        )

    first = worker("first")
    planned = pipeline.ingest_plan_day(DAY, first, demo_inbox)
    files = len(list(demo_inbox.rglob("*.*")))
    assert len(planned["parts"]) >= (files - 5) // 17 > 1
    for n, part in enumerate(reversed(planned["parts"])):
        pipeline.ingest_part_day(DAY, worker(f"w{n % 2}"), part)
    merged = pipeline.ingest_merge_day(DAY, first)
    assert merged["parts"] == len(planned["parts"]) and merged["files"] == planned["files"]
    for step in (pipeline.validate_day, pipeline.rollup_day):
        step(DAY, first)
    pipeline.publish_day(DAY, first)
    changed = changed_from_stored(url, DAY, load_catalogue())
    assert not changed, f"published tables of the demo day changed: {changed}"
