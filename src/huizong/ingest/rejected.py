"""The one way a file fails as a whole: it cannot be read as a submission.

Every reader piece (text decoding, workbook cells, layout) raises it with a message for
the clerk in Chinese and English; the inbox turns it into the ledger's reason.
"""

from __future__ import annotations


class SubmissionRejected(Exception):
    """The whole file cannot be read as a submission; the message is for the clerk."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(f"{message_zh} / {message_en}")
        self.message_zh = message_zh
        self.message_en = message_en

    @property
    def message(self) -> str:
        return f"{self.message_zh} / {self.message_en}"
