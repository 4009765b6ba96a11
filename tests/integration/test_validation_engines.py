"""The night's vectorised validation and GX itself give the same verdict on real days.

The messy corpus (every identity mistake and value oddity the project knows) and the demo
day are ingested once; the rows are validated by each engine
(``HUIZONG_VALIDATION_ENGINE``): accepted rows, quarantine records (reason codes,
bilingual messages, row references) and warnings must be identical.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
from test_messy_corpus import DAY as MESSY_DAY
from test_messy_corpus import MAX_FILE_BYTES, _messy_inbox

from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.demo import generate_demo_day
from huizong.pipeline import ingest_day
from huizong.registry import registry_for
from huizong.settings import Settings
from huizong.validate import validate_rows

DEMO_DAY = date(2020, 1, 28)


def _received(day: date, settings: Settings, inbox: Path) -> pd.DataFrame:
    ingest_day(day, settings, inbox)
    return pd.read_parquet(settings.run_dir(day) / frames.RECEIVED)


def _both(received: pd.DataFrame, day: date, settings: Settings):
    catalogue, registry = load_catalogue(settings.form), registry_for(settings)
    return tuple(
        validate_rows(received, day, catalogue, registry, replace(settings, validation_engine=e))
        for e in ("fast", "gx")
    )


def _assert_same(by_fast, by_gx) -> None:
    for part in ("accepted", "quarantine", "warnings"):
        pd.testing.assert_frame_equal(getattr(by_fast, part), getattr(by_gx, part))


def test_engines_agree_on_the_messy_corpus(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox" / MESSY_DAY.isoformat()
    _messy_inbox(inbox, tmp_path / "outside")
    settings = Settings(home=tmp_path / "home", max_file_bytes=MAX_FILE_BYTES)
    by_fast, by_gx = _both(_received(MESSY_DAY, settings, inbox), MESSY_DAY, settings)
    rules = set(by_gx.quarantine["rule"])
    # the corpus plants these: an agreement on an empty quarantine would prove nothing
    assert {"unit_known", "unique_unit_day", "period_is_day", "cell_parse"} <= rules, rules
    _assert_same(by_fast, by_gx)


def test_engines_agree_on_the_demo_day(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox" / DEMO_DAY.isoformat()
    generate_demo_day(DEMO_DAY, inbox)
    settings = Settings(home=tmp_path / "home")
    by_fast, by_gx = _both(_received(DEMO_DAY, settings, inbox), DEMO_DAY, settings)
    assert len(by_gx.quarantine) > 0 and len(by_gx.accepted) > 5000
    _assert_same(by_fast, by_gx)
