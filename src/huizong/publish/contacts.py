"""Who signs a unit's 综合表: the per-unit contacts file (``HUIZONG_CONTACTS``).

A CSV (UTF-8, with or without BOM) with a header row, or a TOML file; one entry per unit
code. Columns / keys, Chinese or English (any may be left out or blank):

    unit_code | 单位代码, head | 单位负责人, statistician | 统计负责人,
    preparer | 填表人, phone | 联系电话

A unit without an entry (or with a blank field) gets a line to sign by hand. A file that
cannot be read is refused with a message in Chinese and English, never half-used.
"""

from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import dataclass
from pathlib import Path

#: Field → the column names (Chinese first) accepted for it.
FIELDS: dict[str, tuple[str, ...]] = {
    "unit_code": ("单位代码", "unit_code", "code"),
    "head": ("单位负责人", "head"),
    "statistician": ("统计负责人", "statistician"),
    "preparer": ("填表人", "preparer"),
    "phone": ("联系电话", "phone"),
}


@dataclass(frozen=True)
class Contact:
    """The names on a unit's signature block ("" = a line to sign)."""

    head: str = ""
    statistician: str = ""
    preparer: str = ""
    phone: str = ""


class ContactsError(ValueError):
    """The contacts file cannot be used (the message says why, in Chinese and English)."""


def load_contacts(path: Path | None) -> dict[str, Contact]:
    """Unit code → its contact; ``{}`` when ``path`` is None or does not exist."""
    if path is None or not Path(path).is_file():
        return {}
    path = Path(path)
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContactsError(
            f"联系人文件 {path} 不是 UTF-8 编码 / contacts file {path} is not UTF-8: {exc}"
        ) from None
    if path.suffix.lower() == ".toml":
        records = _toml_records(path, raw)
    else:
        records = list(csv.DictReader(io.StringIO(raw)))
    out: dict[str, Contact] = {}
    for n, record in enumerate(records, start=1):
        fields = _fields(record)
        code = fields.pop("unit_code", "")
        if not code:
            raise ContactsError(
                f"联系人文件 {path} 第{n}条缺少单位代码 / contacts file {path}: "
                f"entry {n} has no unit_code"
            )
        out[code] = Contact(**fields)
    return out


def _toml_records(path: Path, raw: str) -> list[dict[str, object]]:
    """``[unit."130921"]`` tables (the code as key) or ``[[contact]]`` entries."""
    try:
        doc = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ContactsError(
            f"联系人文件 {path} 不是有效的 TOML / contacts file {path} is not valid TOML: {exc}"
        ) from None
    records = [{"unit_code": code, **entry} for code, entry in doc.get("unit", {}).items()]
    return records + list(doc.get("contact", []))


def _fields(record: dict[str, object]) -> dict[str, str]:
    """A record's values under the field names; unknown columns are ignored."""
    found: dict[str, str] = {}
    for field, names in FIELDS.items():
        for name in names:
            value = record.get(name)
            if value is not None and str(value).strip():
                found[field] = str(value).strip()
                break
    return found
