"""The ingest plan as a table, so the reads can run as separate (mapped) tasks.

:func:`huizong.ingest.inbox.plan_inbox` stores, times and de-duplicates every file once;
the files to read are then cut into contiguous partitions of the visiting order, each
read on its own (any worker: the stored copies come through the hand-over), and the
merge puts the partitions back in that order before supersession. Contiguous cuts keep
the concatenated reads identical to one read of the whole inbox.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path

import pandas as pd

from huizong.ingest.inbox import Entry, to_read

PART = "part"
#: What a partition's read changes in an entry (and the merge takes back).
READ_FIELDS = ["file_id", "status", "message", "form", "extra_columns"]
_TEXT = [f.name for f in fields(Entry) if f.type in ("str", "str | None")]


def plan_frame(entries: list[Entry], part_files: int) -> pd.DataFrame:
    """One row per entry, in visiting order; ``part`` numbers the files to read in cuts of
    ``part_files`` (-1 for files not read). There is always a partition 0, empty or not,
    so that a mapped task always runs and the merge after it is never skipped."""
    rows = [{**asdict(e), "path": str(e.path)} for e in entries]
    frame = pd.DataFrame(rows, columns=[f.name for f in fields(Entry)])
    reading = pd.Series([to_read(e) for e in entries], dtype="bool")
    order = reading.cumsum() - 1
    frame[PART] = (order // max(1, part_files)).where(reading, -1).astype("int64")
    return frame


def part_ids(plan: pd.DataFrame) -> list[int]:
    found = sorted(int(p) for p in plan[PART].unique() if p >= 0)
    return found or [0]


def entries_of(plan: pd.DataFrame) -> list[Entry]:
    """The entries back from their table (a partition's, or the whole plan)."""
    out = []
    for rec in plan.drop(columns=[PART]).to_dict("records"):
        rec = {k: (None if _missing(v) and k not in _TEXT else v) for k, v in rec.items()}
        for k in _TEXT:
            if _missing(rec[k]) and k != "duplicate_of":
                rec[k] = ""
        rec["path"] = Path(rec["path"])
        out.append(Entry(**rec))
    return out


def read_outcome(entries: list[Entry]) -> pd.DataFrame:
    """What each entry of a partition became once read (status, message, form, extra
    columns): a read may reject it."""
    return pd.DataFrame(
        [{k: getattr(e, k) for k in READ_FIELDS} for e in entries], columns=READ_FIELDS
    )


def apply_outcomes(entries: list[Entry], outcomes: list[pd.DataFrame]) -> None:
    """Put the partitions' read outcomes back into the plan's entries (by file_id)."""
    done = pd.concat(outcomes, ignore_index=True) if outcomes else pd.DataFrame()
    by_id = done.set_index("file_id").to_dict("index") if len(done) else {}
    for e in entries:
        got = by_id.get(e.file_id)
        if got is not None and to_read(e):
            for k, v in got.items():
                setattr(e, k, "" if _missing(v) else v)


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))
