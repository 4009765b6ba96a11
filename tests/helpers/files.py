"""Submission files built in tests: openpyxl workbooks and a zip bomb."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl

MIB = 1024 * 1024


def write_xlsx(path: Path, rows: list[list[object]], title: str = "日报") -> Path:
    """A one-sheet workbook of ``rows`` saved at ``path``."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def zip_bomb() -> bytes:
    """An "xlsx" whose one sheet inflates to 32 MiB of zeros (a few KiB on disk)."""
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open("xl/worksheets/sheet1.xml", "w") as member,
    ):
        for _ in range(32):
            member.write(b"0" * MIB)
    return buf.getvalue()
