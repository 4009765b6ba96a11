"""A later report that fails the checks does not replace the unit's earlier accepted one.

Real files through the real ingest (supersession by arrival) and the real suite; the
night, the upload receipt and ``huizong validate`` all call ``validate_received``.
"""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from huizong.catalogue import load_catalogue
from huizong.ingest import ingest_inbox
from huizong.registry import load_registry
from huizong.settings import Settings
from huizong.validate import account, validate_received
from huizong.validate.day import EARLIER_KEPT

CAT = load_catalogue()
DAY = date(2026, 11, 26)
HEADER = "单位代码,单位名称,日期,排查登记人数,入户走访户数,新增返乡人员"
BASE = 1_795_000_000
VILLAGES = [
    ("130902001001", "建北社区"),
    ("130902001002", "院东社区"),
    ("130902001012", "站西社区"),
]


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def _csv(inbox: Path, name: str, values: dict[str, int], at: int) -> str:
    """One township batch: ``values`` per village code (a negative one fails ``min``)."""
    names = dict(VILLAGES)
    lines = [f"{c},{names[c]},{DAY.isoformat()},{v},{max(v, 0)},0" for c, v in values.items()]
    path = inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    os.utime(path, (BASE + at, BASE + at))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _night(inbox: Path, tmp_path: Path, registry):
    settings = Settings(home=tmp_path / "home")
    received, ledger, _ = ingest_inbox(inbox, DAY, CAT, registry, settings)
    result = validate_received(received, DAY, CAT, registry, settings)
    return result, account(ledger, received, result).set_index("file_id")


def _counts(ledger: pd.DataFrame, fid: str) -> list:
    cols = ["rows_accepted", "rows_quarantined", "rows_superseded", "status"]
    return ledger.loc[fid, cols].tolist()


def _in_use(result) -> dict[str, str]:
    return dict(zip(result.accepted["unit_code"], result.accepted["file_id"], strict=True))


def test_a_failing_reupload_keeps_the_earlier_reports(tmp_path: Path, registry) -> None:
    inbox = tmp_path / "inbox"
    good = _csv(inbox, "batch.csv", {c: 5 for c, _ in VILLAGES}, at=10)
    bad = _csv(inbox, "again.csv", {c: -1 for c, _ in VILLAGES}, at=50)
    result, ledger = _night(inbox, tmp_path, registry)
    assert _in_use(result) == {c: good for c, _ in VILLAGES}
    assert (result.accepted["disposition"] == "candidate").all()  # published as reports
    assert _counts(ledger, good) == [3, 0, 0, "accepted"]
    assert _counts(ledger, bad) == [0, 3, 0, "quarantined"]
    kept = result.quarantine[result.quarantine["rule"] == EARLIER_KEPT]
    assert sorted(kept["unit_code"]) == sorted(c for c, _ in VILLAGES)
    assert (kept["file_id"] == bad).all()
    note = kept.set_index("unit_code").loc["130902001002"]
    assert note["message_zh"] == (
        "院东社区（130902001002） 未通过校验，沿用先前已接收的报表（batch.csv）"
    )
    assert "your earlier report (batch.csv) stays in use" in note["message_en"]
    # the row's own reason is still there beside the note
    own = result.quarantine[(result.quarantine["file_id"] == bad)]
    assert set(own["rule"]) - {EARLIER_KEPT}


def test_only_the_failing_units_fall_back(tmp_path: Path, registry) -> None:
    inbox = tmp_path / "inbox"
    good = _csv(inbox, "batch.csv", {c: 5 for c, _ in VILLAGES}, at=10)
    codes = [c for c, _ in VILLAGES]
    fix = _csv(inbox, "fix.csv", {codes[0]: 7, codes[1]: -1, codes[2]: 9}, at=50)
    result, ledger = _night(inbox, tmp_path, registry)
    assert _in_use(result) == {codes[0]: fix, codes[1]: good, codes[2]: fix}
    assert _counts(ledger, good) == [1, 0, 2, "accepted"]
    assert _counts(ledger, fix) == [2, 1, 0, "partly_quarantined"]


def test_falls_back_past_several_failing_reports(tmp_path: Path, registry) -> None:
    inbox = tmp_path / "inbox"
    code = VILLAGES[0][0]
    first = _csv(inbox, "first.csv", {code: 5}, at=10)
    second = _csv(inbox, "second.csv", {code: -1}, at=20)
    third = _csv(inbox, "third.csv", {code: -2}, at=30)
    result, ledger = _night(inbox, tmp_path, registry)
    assert _in_use(result) == {code: first}
    assert _counts(ledger, first) == [1, 0, 0, "accepted"]
    for fid in (second, third):
        assert _counts(ledger, fid) == [0, 1, 0, "quarantined"]
    kept = result.quarantine[result.quarantine["rule"] == EARLIER_KEPT]
    assert set(kept["file_id"]) == {second, third}
    assert kept["message_zh"].str.contains("first.csv").all()


def test_when_no_earlier_report_passes_the_latest_verdict_stands(tmp_path: Path, registry) -> None:
    inbox = tmp_path / "inbox"
    code = VILLAGES[0][0]
    first = _csv(inbox, "first.csv", {code: -3}, at=10)
    second = _csv(inbox, "second.csv", {code: -1}, at=20)
    result, ledger = _night(inbox, tmp_path, registry)
    assert result.accepted.empty
    assert _counts(ledger, first) == [0, 0, 1, "superseded"]
    assert _counts(ledger, second) == [0, 1, 0, "quarantined"]
    assert EARLIER_KEPT not in set(result.quarantine["rule"])


def test_a_passing_reupload_still_supersedes(tmp_path: Path, registry) -> None:
    inbox = tmp_path / "inbox"
    first = _csv(inbox, "first.csv", {c: 5 for c, _ in VILLAGES}, at=10)
    second = _csv(inbox, "second.csv", {c: 6 for c, _ in VILLAGES}, at=20)
    result, ledger = _night(inbox, tmp_path, registry)
    assert set(_in_use(result).values()) == {second}
    assert _counts(ledger, first) == [0, 0, 3, "superseded"]
    assert result.quarantine.empty


def test_a_waiver_of_the_held_rows_own_error_puts_it_in_use(tmp_path: Path, registry) -> None:
    """The steward accepts the later report's value (a waivable ``max:``): the later row is
    then the unit's report, the earlier one superseded, and no ``earlier_report_kept``."""
    inbox = tmp_path / "inbox"
    code = VILLAGES[0][0]
    _csv(inbox, "batch.csv", {code: 5}, at=10)
    later = _csv(inbox, "again.csv", {code: 300_000}, at=50)  # above persons_screened's max
    settings = Settings(home=tmp_path / "home")
    received, ledger, _ = ingest_inbox(inbox, DAY, CAT, registry, settings)
    before = validate_received(received, DAY, CAT, registry, settings)
    assert set(before.quarantine["rule"]) >= {EARLIER_KEPT, "max:persons_screened"}
    own = before.quarantine[before.quarantine["rule"].str.startswith("max:")]
    waivers = own[["file_id", "sheet", "row_number", "rule"]].assign(
        username="steward", justification="核实属实 checked"
    )
    after = validate_received(received, DAY, CAT, registry, settings, waivers=waivers)
    assert _in_use(after) == {code: later}
    assert after.quarantine.empty
    counts = account(ledger, received, after).set_index("file_id")
    assert _counts(counts, later)[:3] == [1, 0, 0]
