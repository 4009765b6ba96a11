"""Facts of the nightly DAG's shape that more than one test checks."""

from __future__ import annotations

#: The full path, in task order: skipped, task after task, when the fast path published.
FULL_PATH = (
    "ingest_plan",
    "ingest_part",
    "ingest_merge",
    "validate",
    "roll_up",
    "publish",
    "mail_receipts",
)
