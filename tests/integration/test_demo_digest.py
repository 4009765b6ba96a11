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

from helpers.digest import day_digest
from huizong.catalogue import load_catalogue
from huizong.demo import generate_demo_day
from huizong.pipeline import run_day
from huizong.settings import Settings

DAY = date(2020, 1, 28)
STORED = Path(__file__).with_name("demo_day_digest.json")


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
    stored = json.loads(STORED.read_text())
    found = day_digest(warehouse_url, DAY, catalogue, {t: d["columns"] for t, d in stored.items()})
    changed = {
        table: {"stored": {k: stored[table][k] for k in ("rows", "sha256")}, "now": now}
        for table, now in ((t, {k: d[k] for k in ("rows", "sha256")}) for t, d in found.items())
        if now != {k: stored[table][k] for k in ("rows", "sha256")}
    }
    assert not changed, (
        f"published tables of the demo day changed: {changed}. If intended, run "
        "`make bless-digest` and commit tests/integration/demo_day_digest.json with the change"
    )
