"""The one owner of the warehouse connection: every reader and writer goes through here.

Engines are made only by :func:`engine` (psycopg 3 for PostgreSQL, short connect timeout,
an ``application_name``; a SQLite file's folder created), so timeouts, drivers and pool
policy are decided once. Reads that a step needs from earlier publications (the report
history for the quality checks, the stewards' waivers) live here too, so the domain
packages (validate, quality) take frames and return frames and never open the warehouse
themselves; :mod:`huizong.pipeline` does the I/O.

A reader never creates the warehouse: before the first publication the reads below give
empty frames instead of a new, empty SQLite file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import CursorResult, Date, Engine, bindparam, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from huizong.settings import Settings
from huizong.sqlfiles import folder_statements, load_sql, statement

Target = Settings | str | URL

#: The stewards' waiver columns as validation reads them (``sql/review/select_waivers_period``).
WAIVER_COLUMNS = [
    "period",
    "file_id",
    "sheet",
    "row_number",
    "rule",
    "username",
    "at",
    "justification",
]


def url_of(target: Target) -> str:
    """The SQLAlchemy URL of a deployment's warehouse (``Settings``) or of a given URL."""
    if isinstance(target, Settings):
        return target.warehouse
    if isinstance(target, URL):
        return target.render_as_string(hide_password=False)
    return target


def normalise_url(url: Target) -> URL:
    """psycopg 3 for any PostgreSQL URL; a SQLite file is created owner-only (0600)."""
    u = make_url(url_of(url))
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:"):
        _private_file(Path(u.database).expanduser())
    return u


def _private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only, or take away others' access to it.

    The warehouse holds every report received; SQLite gives its journal and WAL files the
    mode of the database file, so they follow.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        if path.is_file() and path.stat().st_mode & 0o077 and os.access(path, os.W_OK):
            path.chmod(0o600)


def exists(target: Target) -> bool:
    """False only for a SQLite file not created yet (nothing was ever published there)."""
    u = make_url(url_of(target))
    if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:"):
        return True
    return Path(u.database).expanduser().is_file()


def open_engine(target: Target, application: str = "huizong") -> Engine:
    """An engine on the warehouse for a long-lived holder (the review app); it disposes it.

    On PostgreSQL an unreachable server fails in seconds (the publish step retries), and
    the connection shows as ``application`` in ``pg_stat_activity``. No pool is kept.
    """
    u = normalise_url(target)
    if u.get_backend_name() == "sqlite":
        args: dict[str, object] = {"timeout": 60}
    else:
        args = {"connect_timeout": 10, "application_name": application}
        args = {k: v for k, v in args.items() if k not in u.query}
    return create_engine(u, poolclass=NullPool, connect_args=args)


@contextmanager
def engine(target: Target, application: str = "huizong") -> Iterator[Engine]:
    """:func:`open_engine` for the length of a ``with`` block (every step and reader)."""
    made = open_engine(target, application)
    try:
        yield made
    finally:
        made.dispose()


#: Unit codes bound per history query when only some units are wanted (well under the
#: bound-parameter limits of SQLite, 32766, and PostgreSQL, 65535).
_UNITS_PER_QUERY = 10_000


def report_history(
    target: Target,
    day: date,
    days: int,
    columns: Sequence[str] | None = None,
    units: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Published ``report`` rows of the ``days`` days before ``day`` (``day`` excluded).

    ``columns``: the indicator columns wanted (``period`` and ``unit_code`` always come
    first); None = every column. ``units``: only these reporters' rows (a correction's
    quality checks need a few units, not 14 national days); None = all. Raw values as the
    driver returns them; no ``report`` table yet gives an empty frame.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    wanted = None if columns is None else ["period", "unit_code", *columns]
    if not exists(target):
        return pd.DataFrame(columns=wanted or ["period", "unit_code"])
    name = "select_report_history" if units is None else "select_report_history_units"
    sql = load_sql(f"quality/{name}.sql")
    listed = "*" if wanted is None else ", ".join(quote_identifier(c) for c in wanted)
    params = [bindparam("since", type_=Date), bindparam("day", type_=Date)]
    if units is not None:
        params.append(bindparam("units", expanding=True))
    stmt = text(sql.format(columns=listed)).bindparams(*params)
    bounds = {"since": day - timedelta(days=days), "day": day}
    codes = sorted(set(units)) if units is not None else []
    chunks = (
        [None]
        if units is None
        else [codes[i : i + _UNITS_PER_QUERY] for i in range(0, len(codes), _UNITS_PER_QUERY)]
    )
    with engine(target) as eng, eng.connect() as conn:
        if not inspect(conn).has_table("report"):
            return pd.DataFrame(columns=wanted or ["period", "unit_code"])
        rows: list[Any] = []
        keys: list[str] = list(wanted or [])
        for chunk in chunks:
            result = conn.execute(stmt, bounds if chunk is None else {**bounds, "units": chunk})
            keys = list(result.keys())
            rows.extend(result.cursor.fetchall())  # plain tuples, see rows_frame
        if units is not None and len(chunks) > 1:
            rows.sort(key=lambda r: (str(r[0]), str(r[1])))  # as one query orders them
        return pd.DataFrame.from_records(rows, columns=keys or None)


def report_days_between(
    target: Target, days: Sequence[date], columns: Sequence[str], lo: str, hi: str
) -> Iterator[pd.DataFrame]:
    """Per day of ``days``, its published ``report`` rows of the reporters ``lo`` <= code
    <= ``hi`` (``period``, ``unit_code`` and ``columns``; raw values, as
    :func:`report_history`), over one connection.

    Why a day and a range of codes at a time: the night's quality checks read fourteen
    national days of history (8 M rows, gigabytes as Python values) a slice of reporters
    at a time, typing each day as it comes, and the primary key (period, unit_code)
    answers exactly that slice with one seek."""
    wanted = ["period", "unit_code", *columns]
    listed = ", ".join(quote_identifier(c) for c in wanted)
    stmt = text(load_sql("quality/select_report_day_between.sql").format(columns=listed))
    stmt = stmt.bindparams(bindparam("period", type_=Date))
    if not exists(target):
        return
    with engine(target) as eng, eng.connect() as conn:
        if not inspect(conn).has_table("report"):
            return
        for day in days:
            yield rows_frame(conn.execute(stmt, {"period": day, "lo": lo, "hi": hi}))


def rows_frame(result: CursorResult) -> pd.DataFrame:
    """A query's rows as a frame, fetched from the DBAPI cursor as plain tuples: a frame
    built from SQLAlchemy Rows probes each Row's attributes (a KeyError apiece), which
    doubled the read of a national day. ``text()`` queries have no result processors, so
    the values are the same."""
    return pd.DataFrame.from_records(result.cursor.fetchall(), columns=list(result.keys()))


def day_waivers(target: Target, day: date) -> pd.DataFrame:
    """The stewards' waivers of ``day`` (``WAIVER_COLUMNS``), typed for matching.

    No review table yet (no steward ever acted) or no warehouse yet: no waivers.
    """
    if exists(target):
        with engine(target) as eng, eng.connect() as conn:
            if inspect(conn).has_table("review_waiver"):
                result = conn.execute(
                    statement("review/select_waivers_period.sql"), {"period": day.isoformat()}
                )
                frame = rows_frame(result)
                if len(frame):
                    return _typed_waivers(frame.reindex(columns=WAIVER_COLUMNS))
    return _typed_waivers(pd.DataFrame(columns=WAIVER_COLUMNS))


def actions_between(target: Target, start: date, end: date) -> pd.DataFrame:
    """The stewards' audited actions on the days ``start``..``end`` (lineage shows them).

    No review table yet (no steward ever acted) or no warehouse yet: an empty frame.
    """
    if exists(target):
        with engine(target) as eng, eng.connect() as conn:
            if inspect(conn).has_table("review_action"):
                stmt = statement("review/select_actions_range.sql").bindparams(
                    bindparam("start", type_=Date), bindparam("end", type_=Date)
                )
                result = conn.execute(stmt, {"start": start, "end": end})
                return rows_frame(result)
    return pd.DataFrame(columns=ACTION_COLUMNS)


def corrected_files(target: Target, start: date, end: date) -> pd.DataFrame:
    """The ledger rows that name a steward's correction on the days ``start``..``end``:
    each correction file and each file it revises (``file_id``, ``file_name``,
    ``received_at``, ``channel``), what :func:`huizong.display.shown_file_names` needs
    without reading every file of the period. None corrected: an empty frame."""
    from huizong.ingest.receipts import REVIEW

    columns = ["file_id", "file_name", "received_at", "channel"]
    if exists(target):
        with engine(target) as eng, eng.connect() as conn:
            tables = inspect(conn)
            if tables.has_table("review_action") and tables.has_table("submission_ledger"):
                stmt = statement("review/select_corrected_files.sql").bindparams(
                    bindparam("start", type_=Date), bindparam("end", type_=Date)
                )
                params = {"start": start, "end": end, "review": REVIEW}
                return rows_frame(conn.execute(stmt, params))
    return pd.DataFrame(columns=columns)


def shown_issue_names(target: Target, issues: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """``issues`` of the days ``start``..``end`` with a correction's rows named by the file
    it revises, as the review pages name them (a workbook's 隔离区 read the store name
    ``<unit>-<UTC>.csv``, which no clerk sent)."""
    from huizong.display import named_by_file

    if issues.empty:
        return issues
    acted = actions_between(target, start, end)
    if not (acted["action"] == "correct").any():
        return issues
    return named_by_file(issues, corrected_files(target, start, end), acted)


ACTION_COLUMNS = [
    "id",
    "at",
    "username",
    "action",
    "period",
    "file_id",
    "sheet",
    "row_number",
    "unit_code",
    "column",
    "rule",
    "old_value",
    "new_value",
    "justification",
]


def _typed_waivers(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["period"] = out["period"].map(lambda v: date.fromisoformat(str(v)[:10]).isoformat())
    out["sheet"] = out["sheet"].fillna("")
    for col in ("period", "file_id", "sheet", "rule", "username", "justification"):
        out[col] = out[col].astype("str")
    out["row_number"] = out["row_number"].astype("int64")
    out["at"] = pd.to_datetime(out["at"], utc=True, format="ISO8601")
    return out


#: The deadline lists as the day page reads them (``sql/intake/select_deadline_*``).
DEADLINE_CHECK_COLUMNS = ["level", "deadline", "expected_units", "missing_units", "listed_at"]
DEADLINE_MISSING_COLUMNS = [
    "level",
    "unit_code",
    "unit_name",
    "township_code",
    "township_name",
    "county_code",
    "county_name",
]


def save_deadline_list(
    target: Target,
    day: date,
    level: str,
    deadline: datetime,
    expected_units: int,
    missing: pd.DataFrame,
) -> None:
    """Keep what a level's deadline found for the review page: the check itself and the
    units missing (``missing`` has code, name, township_/county_ code and name), replacing
    an earlier check of the same day and level in one transaction."""
    now = datetime.now(UTC)
    key = {"period": day.isoformat(), "level": level}
    rows = [
        {
            **key,
            "unit_code": str(r["code"]),
            "unit_name": _text_or_none(r["name"]),
            "township_code": _text_or_none(r["township_code"]),
            "township_name": _text_or_none(r["township_name"]),
            "county_code": _text_or_none(r["county_code"]),
            "county_name": _text_or_none(r["county_name"]),
        }
        for r in missing.to_dict("records")
    ]
    with engine(target) as eng, eng.begin() as conn:
        for sql in folder_statements("intake/schema"):
            conn.execute(text(sql))
        conn.execute(statement("intake/delete_deadline_missing.sql"), key)
        conn.execute(statement("intake/delete_deadline_check.sql"), key)
        conn.execute(
            statement("intake/insert_deadline_check.sql"),
            {
                **key,
                "deadline": deadline.astimezone(UTC).isoformat(sep=" "),
                "expected_units": int(expected_units),
                "missing_units": len(rows),
                "listed_at": now.isoformat(sep=" "),
            },
        )
        if rows:
            conn.execute(statement("intake/insert_deadline_missing.sql"), rows)


def deadline_lists(target: Target, day: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(checks, missing units) of ``day``'s deadlines; empty frames before the first check
    (or before any warehouse exists)."""
    checks = pd.DataFrame(columns=DEADLINE_CHECK_COLUMNS)
    missing = pd.DataFrame(columns=DEADLINE_MISSING_COLUMNS)
    if not exists(target):
        return checks, missing
    params = {"period": day.isoformat()}
    with engine(target) as eng, eng.connect() as conn:
        if not inspect(conn).has_table("deadline_check"):
            return checks, missing
        found = conn.execute(statement("intake/select_deadline_check_period.sql"), params)
        checks = rows_frame(found)
        found = conn.execute(statement("intake/select_deadline_missing_period.sql"), params)
        missing = rows_frame(found)
    checks["deadline"] = pd.to_datetime(checks["deadline"], utc=True, format="ISO8601")
    checks["listed_at"] = pd.to_datetime(checks["listed_at"], utc=True, format="ISO8601")
    return checks.reindex(columns=DEADLINE_CHECK_COLUMNS), missing.reindex(
        columns=DEADLINE_MISSING_COLUMNS
    )


def _text_or_none(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def quote_identifier(name: str) -> str:
    """A table or column name from our own specs or the catalogue, quoted; refused unless
    it is a plain lower-case identifier (so no input can ever reach SQL as text)."""
    if not _IDENT.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return f'"{name}"'


_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
