"""A digest of one day's published tables: equal digests mean equal rows, on either dialect.

Each table is read back with ``read_table`` (typed the same on SQLite and PostgreSQL),
restricted to the columns the stored digest names (so a column added later by an
intended schema change does not disturb it), written as canonical JSON lines sorted by
value, and hashed. Comparing per table says which table changed.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from huizong.catalogue import Catalogue
from huizong.publish.warehouse import read_table


def _canonical(value: Any) -> Any:
    """One spelling per value: NA as null, whole numbers as int, timestamps in UTC ISO."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else repr(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).tz_convert("UTC").isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return _canonical(value.item())
    return str(value)


def table_digest(frame: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """Row count and sha256 of ``frame[columns]`` as sorted canonical JSON lines."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AssertionError(f"published table lacks columns {missing}")
    lines = sorted(
        json.dumps([_canonical(v) for v in row], ensure_ascii=False, separators=(",", ":"))
        for row in frame[columns].itertuples(index=False, name=None)
    )
    sha = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    return {"rows": len(lines), "sha256": sha}


def day_digest(
    url: str, day: date, catalogue: Catalogue, columns: dict[str, list[str]] | None = None
) -> dict[str, dict[str, Any]]:
    """Per table: its columns, row count and sha256. ``columns=None``: every column now."""
    out: dict[str, dict[str, Any]] = {}
    for table in columns or _DAILY_TABLES:
        frame = read_table(url, table, day, catalogue=catalogue)
        cols = columns[table] if columns else list(frame.columns)
        out[table] = {"columns": cols, **table_digest(frame, cols)}
    return out


#: The daily tables as of the stored digest (new tables do not enter it by themselves).
_DAILY_TABLES = (
    "consolidated",
    "completeness",
    "missing_reporter",
    "quarantine",
    "validation_warning",
    "submission_ledger",
    "report",
)


#: The demo day's digest as last blessed (``make bless-digest``).
STORED = Path(__file__).resolve().parents[1] / "integration" / "demo_day_digest.json"


def changed_from_stored(url: str, day: date, catalogue: Catalogue) -> dict[str, Any]:
    """Tables of ``url`` whose rows differ from the stored demo-day digest ({} = none)."""
    stored = json.loads(STORED.read_text())
    found = day_digest(url, day, catalogue, {t: d["columns"] for t, d in stored.items()})
    changed = {}
    for table, now in found.items():
        then = {k: stored[table][k] for k in ("rows", "sha256")}
        if {k: now[k] for k in ("rows", "sha256")} != then:
            changed[table] = {"stored": then, "now": {k: now[k] for k in ("rows", "sha256")}}
    return changed
