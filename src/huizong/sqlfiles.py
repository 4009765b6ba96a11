"""Where the SQL statements live and how they are read: one statement per file in ``sql/``.

Statements take bound parameters only; the few that need identifiers (table and column
names from our own specs) are templates filled by the caller after checking them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa


def sql_dir() -> Path:
    """``$HUIZONG_SQL_DIR``, else the copy inside an installed wheel, else the checkout's."""
    from huizong.settings import Settings

    configured = Settings.from_env().sql_dir
    if configured:
        return configured
    packaged = Path(__file__).resolve().parent / "sql"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "sql"


@cache
def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8").strip().rstrip(";")


def load_sql(relative: str) -> str:
    """The text of ``sql/<relative>`` without a trailing semicolon."""
    return _read(str(sql_dir() / relative))


def statement(relative: str) -> sa.TextClause:
    """``sql/<relative>`` as a SQLAlchemy text clause with bound parameters."""
    return sa.text(load_sql(relative))


def folder_statements(relative: str) -> list[str]:
    """Every ``*.sql`` of a folder, in file-name order (schema files are numbered)."""
    folder = sql_dir() / relative
    return [_read(str(p)) for p in sorted(folder.glob("*.sql"))]
