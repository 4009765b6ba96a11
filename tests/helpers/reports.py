"""A village's one-row report as the sources carry it: an xlsx, or a GB18030 CSV in a zip."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import openpyxl

LABELS = ["单位代码", "单位名称", "日期", "排查登记人数", "入户走访户数", "新增返乡人员"]


def report_xlsx(code: str, name: str, day: date, screened: int = 1) -> bytes:
    """The bytes of a workbook with the header and one row (screened, 2, 3)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(LABELS)
    ws.append([code, name, day.isoformat(), screened, 2, 3])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def zipped_gb18030_csv(day: date) -> bytes:
    """A zip holding 院东社区日报.csv, encoded GB18030 (as Chinese Excel saves CSV)."""
    text = ",".join(LABELS) + f"\n130902001002,院东社区,{day.isoformat()},4,5,6\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("院东社区日报.csv", text.encode("gb18030"))
    return out.getvalue()
