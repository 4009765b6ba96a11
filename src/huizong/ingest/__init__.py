"""INGEST: read the day's inbox into RECEIVED rows and a LEDGER of files.

``read_submission`` (one file) is also what ``huizong validate FILE`` uses;
``huizong.ingest.template.write_template`` writes the workbook a unit fills in.
"""

from __future__ import annotations

from huizong.ingest.inbox import empty_ledger, ingest_inbox
from huizong.ingest.reader import (
    Submission,
    SubmissionRejected,
    empty_received,
    parse_raw,
    read_raw,
    read_submission,
)

__all__ = [
    "Submission",
    "SubmissionRejected",
    "empty_ledger",
    "empty_received",
    "ingest_inbox",
    "parse_raw",
    "read_raw",
    "read_submission",
]
