"""Publish one reporting day into the SQL warehouse (PostgreSQL or SQLite), atomically.

A day is replaced in ONE transaction: on PostgreSQL, where every per-day table is
partitioned by day, the new rows are COPYed into a staging table, its key built once,
then the old partition dropped and the new one attached; plain tables (SQLite, and a
PostgreSQL warehouse made before the partitions) have the day's rows deleted and the new
ones bulk-inserted. ``org_unit`` is replaced whole. Readers see the old day or the new
day, never a mix; a failure anywhere leaves the previous publication untouched. On
PostgreSQL an advisory lock keyed on the period serialises two runs of the same day, and
rows go in through COPY on the very connection that holds the transaction (17x faster
than ``to_sql``). On SQLite a prepared INSERT runs through ``executemany``.

A lost connection (the server restarted, the network dropped, the backend was killed)
rolls the transaction back on the server, so the whole publication is simply tried again
with bounded exponential backoff (``HUIZONG_PUBLISH_RETRIES`` retries, default 3; delays
``HUIZONG_PUBLISH_BACKOFF`` seconds, default 1, doubling, capped at 30). Anything else (a
constraint violation, a bad value) is a data error: it fails at once, with a note saying
so, because trying the same rows again cannot help.

The SQL lives in ``sql/`` (one statement per file); only identifiers that come from this
module's own table specs or from catalogue codes (checked) are formatted into it.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    CursorResult,
    Date,
    String,
    TextClause,
    bindparam,
    inspect,
    text,
)

from huizong.catalogue import Catalogue
from huizong.publish import versions
from huizong.publish.versions import Provenance, VersionPlan
from huizong.registry import Registry
from huizong.registry.divisions import ORG_UNIT_COLUMNS
from huizong.sqlfiles import load_sql, sql_dir
from huizong.warehouse import engine as _engine
from huizong.warehouse import normalise_url as normalise_url  # old home; review imports it
from huizong.warehouse import quote_identifier as _q
from huizong.warehouse import rows_frame

Kind = Literal["date", "text", "int", "float", "ts"]

#: Column specs of the fixed tables, in DDL order (sql/schema/*.sql must agree; a test
#: checks it). ``period`` is the day published; ``stated_period`` what the row said.
_ISSUE: list[tuple[str, Kind]] = [
    ("period", "date"),
    ("stated_period", "text"),
    ("file_id", "text"),
    ("file_name", "text"),
    ("sheet", "text"),
    ("row_number", "int"),
    ("unit_code", "text"),
    ("unit_name", "text"),
    ("column", "text"),
    ("value", "text"),
    ("rule", "text"),
    ("severity", "text"),
    ("message_zh", "text"),
    ("message_en", "text"),
]
SPECS: dict[str, list[tuple[str, Kind]]] = {
    "consolidated": [
        ("period", "date"),
        ("unit_code", "text"),
        ("unit_name", "text"),
        ("level", "int"),
        ("kind", "text"),
        ("parent_code", "text"),
        ("indicator", "text"),
        ("value", "float"),
        ("value_text", "text"),
        ("status", "text"),
        ("reporting_units", "int"),
        ("expected_units", "int"),
    ],
    "completeness": [
        ("period", "date"),
        ("unit_code", "text"),
        ("unit_name", "text"),
        ("level", "int"),
        ("kind", "text"),
        ("expected_units", "int"),
        ("reported_units", "int"),
        ("missing_units", "int"),
        ("reporting_rate", "float"),
        ("on_time_units", "int"),
        ("late_units", "int"),
        ("missing_list", "text"),
    ],
    "missing_reporter": [
        ("period", "date"),
        ("unit_code", "text"),
        ("unit_name", "text"),
        ("kind", "text"),
        ("parent_code", "text"),
        ("township_code", "text"),
        ("county_code", "text"),
        ("city_code", "text"),
    ],
    "quarantine": _ISSUE,
    "validation_warning": _ISSUE,
    "submission_ledger": [
        ("period", "date"),
        ("stated_period", "text"),
        ("file_id", "text"),
        ("file_name", "text"),
        ("source", "text"),
        ("size_bytes", "int"),
        ("received_at", "ts"),
        ("form", "text"),
        ("units", "text"),
        ("rows_received", "int"),
        ("rows_accepted", "int"),
        ("rows_quarantined", "int"),
        ("rows_superseded", "int"),
        ("status", "text"),
        ("duplicate_of", "text"),
        ("extra_columns", "text"),
        ("message", "text"),
        ("channel", "text"),
        ("sender", "text"),
        ("sender_unit", "text"),
    ],
    "org_unit": [
        ("code", "text"),
        ("name", "text"),
        ("level", "int"),
        ("kind", "text"),
        ("parent_code", "text"),
        ("province_code", "text"),
        ("city_code", "text"),
        ("county_code", "text"),
        ("township_code", "text"),
        ("full_name", "text"),
    ],
}
#: Meta columns of the wide ``report`` table; one column per indicator follows.
REPORT_META: list[tuple[str, Kind]] = [
    ("period", "date"),
    ("unit_code", "text"),
    ("unit_name", "text"),
    ("file_id", "text"),
    ("file_name", "text"),
    ("sheet", "text"),
    ("row_number", "int"),
    ("received_at", "ts"),
    ("not_applicable", "text"),
    ("coercions", "text"),
]
#: Ledger columns added after the first release (intake): added to older warehouses.
ADDED_LEDGER_COLUMNS = ("channel", "sender", "sender_unit")
#: Per-day tables, in publishing order; each has sql/publish/delete_<table>.sql.
PER_DAY_TABLES = (
    "consolidated",
    "completeness",
    "missing_reporter",
    "quarantine",
    "validation_warning",
    "submission_ledger",
    "report",
)
TABLES = (*PER_DAY_TABLES, "org_unit")
#: Sort keys that make a read deterministic (the primary key where there is one).
ORDER: dict[str, list[str]] = {
    "consolidated": ["period", "unit_code", "indicator"],
    "completeness": ["period", "unit_code"],
    "missing_reporter": ["period", "unit_code"],
    "quarantine": ["period", "file_id", "sheet", "row_number", "rule", "column"],
    "validation_warning": ["period", "file_id", "sheet", "row_number", "rule", "column"],
    "submission_ledger": ["period", "file_id"],
    "report": ["period", "unit_code"],
    "org_unit": ["code"],
}
#: Primary keys (sql/schema); duplicates are refused with a clear message before any SQL.
PRIMARY_KEYS: dict[str, list[str]] = {
    "consolidated": ["period", "unit_code", "indicator"],
    "completeness": ["period", "unit_code"],
    "missing_reporter": ["period", "unit_code"],
    "submission_ledger": ["period", "file_id"],
    "report": ["period", "unit_code"],
    "org_unit": ["code"],
}
#: The key each table's changed rows are replaced by on the fast path (the issue tables
#: have no primary key: all rows of one received row are replaced together).
ROW_KEYS: dict[str, list[str]] = {
    **PRIMARY_KEYS,
    "quarantine": ["period", "file_id", "sheet", "row_number"],
    "validation_warning": ["period", "file_id", "sheet", "row_number"],
}


@dataclass(frozen=True)
class Hashed:
    """A load frame's row hashes and key hashes, computed once: the day's digest needs
    the row hashes, the fast path's per-key delta both (kept in the hand-over after a
    publish, so the next correction need not type and hash the old day again)."""

    rows: np.ndarray  # uint64 per row (``hash_pandas_object``, no index)
    keys: np.ndarray  # uint64 per row, of its ROW_KEYS columns

    @classmethod
    def of(cls, table: str, frame: pd.DataFrame) -> Hashed:
        """Bit for bit ``hash_pandas_object(frame, index=False)`` and the same of the key
        columns, but each column hashed once: the key columns are the strings, which were
        most of the hashing (3.4 s of a national correction's publish) when hashed twice."""
        from pandas.core.util.hashing import combine_hash_arrays  # what pandas combines with

        key_columns = ROW_KEYS[table]
        if frame.columns.has_duplicates:  # ``frame[c]`` would be a frame: the plain way
            rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
            keys = pd.util.hash_pandas_object(frame[key_columns], index=False).to_numpy()
            return cls(rows=rows, keys=keys)
        column = {c: pd.util.hash_pandas_object(frame[c], index=False).to_numpy() for c in frame}
        rows = combine_hash_arrays(iter(column.values()), len(column))
        keys = combine_hash_arrays(iter([column[c] for c in key_columns]), len(key_columns))
        return cls(rows=rows, keys=keys)


#: Tables whose rows must all belong to the published day (a mismatch is a bug upstream).
_SAME_DAY = ("consolidated", "completeness", "missing_reporter", "report")
#: Tables of rows as received: keep what the row/file said in ``stated_period``.
_STATED = ("quarantine", "validation_warning", "submission_ledger")

#: Advisory lock namespace ("HUZ"); keys: yyyymmdd per period, and these two.
LOCK_NAMESPACE = 0x48555A
_SCHEMA_LOCK_KEY = 0
_ORG_UNIT_LOCK_KEY = -1
_COPY_CHUNK = 200_000
#: Rows per SQLite executemany: 200 k report rows as Python tuples were 0.4 GB at once;
#: 20 k keep that at about 40 MB and the per-call cost is still negligible.
_INSERT_CHUNK = 20_000
_TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f+00:00"
#: ``application_name`` of the publishing connection (find it in ``pg_stat_activity``).
PUBLISH_APPLICATION = "huizong-publish"
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
#: SQLSTATEs that mean the server ended the session: admin/crash shutdown, cannot connect.
_DISCONNECT_STATES = frozenset({"57P01", "57P02", "57P03"})

log = logging.getLogger(__name__)


@dataclass
class DayTables:
    """The frames one day publishes (columns as in ``huizong.frames``)."""

    consolidated: pd.DataFrame
    completeness: pd.DataFrame
    missing: pd.DataFrame
    quarantine: pd.DataFrame
    warnings: pd.DataFrame
    ledger: pd.DataFrame
    report: pd.DataFrame  # the ACCEPTED frame


# ---- SQL files -----------------------------------------------------------------------


def schema_statements(catalogue: Catalogue, *, partition_days: bool = False) -> list[str]:
    """The DDL, in file order, with the report table's indicator columns filled in.

    ``partition_days`` (PostgreSQL): the per-day tables are created partitioned by
    ``period`` (``sql/publish/postgresql/partition_by_day.sql``), one partition per day.
    """
    out = []
    for path in sorted((sql_dir() / "schema").glob("*.sql")):
        stmt = load_sql(f"schema/{path.name}")
        if "{indicator_columns}" in stmt:
            stmt = stmt.replace("{indicator_columns}", _indicator_columns_ddl(catalogue))
        if partition_days and _created_table(stmt) in PER_DAY_TABLES:
            stmt = f"{stmt} {load_sql('publish/postgresql/partition_by_day.sql')}"
        out.append(stmt)
    return out


def _created_table(stmt: str) -> str | None:
    """The table a ``CREATE TABLE IF NOT EXISTS name (`` statement creates (else None)."""
    head = "CREATE TABLE IF NOT EXISTS "
    return stmt[len(head) :].split("(", 1)[0].strip() if stmt.startswith(head) else None


def _indicator_columns_ddl(catalogue: Catalogue) -> str:
    meta = {c for c, _ in REPORT_META}
    cols = []
    for ind in catalogue.indicators:
        if ind.code in meta:
            raise ValueError(f"indicator code {ind.code!r} collides with a report meta column")
        cols.append(f"{_q(ind.code)} {'BIGINT' if ind.is_numeric else 'TEXT'}")
    return ",\n    ".join(cols)


def report_spec(catalogue: Catalogue) -> list[tuple[str, Kind]]:
    return [
        *REPORT_META,
        *((i.code, "int" if i.is_numeric else "text") for i in catalogue.indicators),
    ]


def _is_pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _lock(conn: Connection, key: int) -> None:
    conn.execute(
        text(load_sql("publish/postgresql/advisory_xact_lock.sql")),
        {"namespace": LOCK_NAMESPACE, "key": key},
    )


def period_lock_key(day: date) -> int:
    """The advisory-lock key of a period: yyyymmdd (fits the int4 of the two-key form)."""
    return day.year * 10000 + day.month * 100 + day.day


# ---- frames → load frames ------------------------------------------------------------


def _typed(series: pd.Series, kind: Kind) -> pd.Series:
    if kind == "int":
        return pd.to_numeric(series).astype("Int64")
    if kind == "float":
        return pd.to_numeric(series).astype("float64")
    if kind == "ts":
        ts = pd.to_datetime(series, utc=True, format="ISO8601")
        return ts.dt.strftime(_TS_FORMAT).astype("str")
    return series.astype("str")  # text and date (already ISO strings)


def load_frame(
    table: str, frame: pd.DataFrame, day: date, spec: list[tuple[str, Kind]]
) -> pd.DataFrame:
    """The frame as the table wants it: spec columns, canonical types, NA kept as NA."""
    iso = day.isoformat()
    frame = frame.reset_index(drop=True)
    if table == "report" and "disposition" in frame.columns:
        keep = (frame["disposition"].fillna("candidate") == "candidate").to_numpy(dtype=bool)
        frame = frame if keep.all() else frame[keep]  # no take of a whole national day
    if table in _SAME_DAY and "period" in frame.columns and len(frame):
        stated = frame["period"].dropna().astype(str)
        wrong = stated[stated.str.slice(0, 10) != iso]
        if len(wrong):
            raise ValueError(f"{table}: rows for period {wrong.iloc[0]!r} in the {iso} publication")
    # no copy: under copy-on-write the columns set below never reach the caller's frame
    if table in _STATED:
        frame["stated_period"] = frame["period"] if "period" in frame.columns else pd.NA
    if table != "org_unit":
        frame["period"] = iso
    names = [c for c, _ in spec]
    optional = ADDED_LEDGER_COLUMNS if table == "submission_ledger" else ()
    absent = [c for c in names if c not in frame.columns and c not in optional]
    if absent and len(frame):
        raise ValueError(f"{table}: frame lacks columns {absent}")
    frame = frame.reindex(columns=names)
    out = pd.DataFrame({c: _typed(frame[c], k) for c, k in spec}, index=frame.index)
    keys = PRIMARY_KEYS.get(table)
    if keys and out.duplicated(keys).any():
        dup = out.loc[out.duplicated(keys), keys].iloc[0].to_dict()
        raise ValueError(f"{table}: more than one row for {dup}")
    return out


# ---- bulk writers --------------------------------------------------------------------


def _copy_sql(table: str, columns: list[str]) -> str:
    return load_sql("publish/postgresql/copy.sql").format(
        table=_q(table), columns=", ".join(_q(c) for c in columns)
    )


def copy_csv(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    """PostgreSQL: COPY ... FROM STDIN (FORMAT csv), the CSV written by pyarrow in chunks.

    Arrow's CSV writer quotes every string and leaves NULL unquoted-empty, which is
    exactly PostgreSQL's CSV convention: "" is an empty string, an empty field is NULL.
    Floats are written in shortest round-trip form.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    options = pacsv.WriteOptions(include_header=False)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(_copy_sql(table, list(frame.columns))) as copy:
        for start in range(0, len(frame), _COPY_CHUNK):
            chunk = pa.Table.from_pandas(
                frame.iloc[start : start + _COPY_CHUNK], preserve_index=False
            )
            buf = io.BytesIO()
            pacsv.write_csv(chunk, buf, options)
            copy.write(buf.getbuffer())


def copy_rows(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    """PostgreSQL: COPY with psycopg's write_row (kept for the benchmark's comparison)."""
    stmt = _copy_sql(table, list(frame.columns)).replace("FORMAT csv", "FORMAT text")
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(stmt) as copy:
        for row in _python_rows(frame):
            copy.write_row(row)


def _python_rows(frame: pd.DataFrame) -> list[tuple]:
    """Rows of plain Python values (None for NA) for DBAPI drivers."""
    cols = [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in frame.columns]
    return list(zip(*cols, strict=True))


def insert_many(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    """SQLite: one prepared INSERT through the raw cursor's executemany."""
    stmt = load_sql("publish/sqlite/insert.sql").format(
        table=_q(table),
        columns=", ".join(_q(c) for c in frame.columns),
        placeholders=", ".join("?" for _ in frame.columns),
    )
    raw = conn.connection.driver_connection
    cur = raw.cursor()
    try:  # in chunks: Python tuples of a national day's rows would cost gigabytes at once
        for start in range(0, len(frame), _INSERT_CHUNK):
            cur.executemany(stmt, _python_rows(frame.iloc[start : start + _INSERT_CHUNK]))
    finally:
        cur.close()


def _bulk(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    (copy_csv if _is_pg(conn) else insert_many)(conn, table, frame)


# ---- schema --------------------------------------------------------------------------


def ensure_schema(conn: Connection, catalogue: Catalogue) -> None:
    """Create missing tables; add report columns for indicators new to the catalogue."""
    pg = _is_pg(conn)
    if pg:
        _lock(conn, _SCHEMA_LOCK_KEY)  # concurrent CREATE IF NOT EXISTS can still collide
    for stmt in schema_statements(catalogue, partition_days=pg):
        conn.execute(text(stmt))  # an existing table keeps its layout (IF NOT EXISTS)
    if pg:
        for table in sorted(partitioned_tables(conn)):
            stmt = load_sql("publish/postgresql/create_default_partition.sql")
            conn.execute(text(stmt.format(partition=_q(f"{table}_default"), table=_q(table))))
    have_ledger = {c["name"] for c in inspect(conn).get_columns("submission_ledger")}
    for column in ADDED_LEDGER_COLUMNS:  # warehouses created before these columns existed
        if column not in have_ledger:
            conn.execute(text(load_sql("publish/add_ledger_column.sql").format(column=_q(column))))
    _ensure_views(conn)
    have = {c["name"] for c in inspect(conn).get_columns("report")}
    for code, kind in report_spec(catalogue):
        if code not in have:
            conn.execute(
                text(
                    load_sql("publish/add_report_column.sql").format(
                        column=_q(code), type="BIGINT" if kind == "int" else "TEXT"
                    )
                )
            )


# ---- publications (when, and by which run, each week / 旬 / month was published) ------

#: ``run_id`` of a period publication made outside Airflow (``huizong run``).
CLI_RUN_ID = "huizong run"


def record_publication(
    conn: Connection,
    period_type: str,
    start: date,
    end: date,
    label: str,
    through: date,
    run_id: str | None,
) -> None:
    """Replace the ``publication`` row of a week, 旬 or month inside the transaction that
    publishes it (days have their versions in ``publish_version``); read back by
    ``huizong.review.downloads.publications``."""
    params = {"period_type": period_type, "period_start": start}
    dates = [bindparam(n, type_=Date) for n in ("period_start", "period_end", "through")]
    conn.execute(text(load_sql("publish/delete_publication.sql")).bindparams(dates[0]), params)
    conn.execute(
        text(load_sql("publish/insert_publication.sql")).bindparams(*dates),
        {
            **params,
            "period_end": end,
            "period_label": label,
            "through": through,
            "published_at": datetime.now(UTC).strftime(_TS_FORMAT),
            "run_id": run_id or CLI_RUN_ID,
        },
    )


def _ensure_views(conn: Connection) -> None:
    """(Re)create the views of ``sql/views`` (the as-of views of the versioned tables).

    PostgreSQL replaces a view in place; SQLite has no CREATE OR REPLACE VIEW, so the view
    is dropped and created again in the same transaction.
    """
    for path in sorted((sql_dir() / "views").glob("*.sql")):
        name, body = _q(path.stem), load_sql(f"views/{path.name}")
        if _is_pg(conn):
            conn.execute(
                text(load_sql("publish/postgresql/create_view.sql").format(name=name, body=body))
            )
        else:
            conn.execute(text(load_sql("publish/sqlite/drop_view.sql").format(name=name)))
            conn.execute(
                text(load_sql("publish/sqlite/create_view.sql").format(name=name, body=body))
            )


# ---- public API ----------------------------------------------------------------------


def _delete(conn: Connection, table: str, day: date | None) -> None:
    stmt = text(load_sql(f"publish/delete_{table}.sql"))
    if day is None:
        conn.execute(stmt)
    else:
        conn.execute(stmt.bindparams(bindparam("period", type_=Date)), {"period": day})


def day_sources(tables: DayTables, registry: Registry | None) -> dict[str, pd.DataFrame]:
    """Each table's frame before typing (``org_unit`` only with a registry)."""
    sources = {
        "consolidated": tables.consolidated,
        "completeness": tables.completeness,
        "missing_reporter": tables.missing,
        "quarantine": tables.quarantine,
        "validation_warning": tables.warnings,
        "submission_ledger": tables.ledger,
        "report": tables.report,
    }
    if registry is not None:
        sources["org_unit"] = registry.units.reindex(columns=ORG_UNIT_COLUMNS)
    return sources


def day_frames(
    day: date,
    tables: DayTables,
    registry: Registry,
    catalogue: Catalogue,
    org_unit: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table's load frame for one day (validated before any SQL runs).

    ``org_unit``: the registry's load frame when already built for another day's tables
    (it depends on the registry only; 665 k rows on a national registry)."""
    sources = day_sources(tables, registry)
    out = {}
    for table, frame in sources.items():
        spec = report_spec(catalogue) if table == "report" else SPECS[table]
        if table == "org_unit" and org_unit is not None:
            out[table] = org_unit
        else:
            out[table] = load_frame(table, frame, day, spec)
    return out


def publish_tables(
    url: str,
    day: date,
    tables: DayTables,
    registry: Registry,
    catalogue: Catalogue,
    *,
    retries: int | None = None,
    backoff: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    provenance: Provenance | None = None,
) -> PublishOutcome:
    """Replace one day in the warehouse atomically, as a new version of the day.

    Returns the rows written per table and the version (:mod:`huizong.publish.versions`):
    a publish identical to the day's latest version writes nothing and keeps its number.

    A lost connection is retried ``retries`` times (default ``HUIZONG_PUBLISH_RETRIES``
    or 3) after ``backoff``, 2 x ``backoff``, ... seconds (capped at 30); every attempt
    is the whole transaction again, so readers keep seeing the previous publication until
    one attempt commits. Other errors are raised at once.
    """
    loads = day_frames(day, tables, registry, catalogue)
    del tables  # the step's frames, no longer needed beside their load frames
    hashed = {t: Hashed.of(t, frame) for t, frame in loads.items()}
    attempts = int(_env_number("HUIZONG_PUBLISH_RETRIES", DEFAULT_RETRIES, retries)) + 1
    backoff = _env_number("HUIZONG_PUBLISH_BACKOFF", DEFAULT_BACKOFF_SECONDS, backoff)
    provenance = provenance or Provenance()
    for attempt in range(1, attempts + 1):
        try:
            plan = _publish_once(url, day, loads, catalogue, provenance, hashed)
        except Exception as exc:
            if not is_disconnect(exc):
                exc.add_note(
                    f"publishing {day} failed on a data or programming error, not a lost "
                    f"connection: not retried; the previous publication of {day} is untouched"
                )
                raise
            if attempt == attempts:
                exc.add_note(
                    f"publishing {day}: the warehouse connection was lost on all {attempts} "
                    f"attempts; the previous publication of {day} is untouched"
                )
                raise
            delay = min(backoff * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
            log.warning(
                "publishing %s: lost the warehouse connection on attempt %d of %d (%s); "
                "retrying in %.1f s, the previous publication stays visible",
                day,
                attempt,
                attempts,
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                delay,
            )
            sleep(delay)
            continue
        rows = {} if plan.unchanged else {table: len(frame) for table, frame in loads.items()}
        restated = None if plan.unchanged else plan.record.get("restated")
        return PublishOutcome(rows, plan.version, plan.unchanged, restated, hashed)
    raise AssertionError("unreachable: the last attempt returns or raises")


@dataclass(frozen=True)
class PublishOutcome:
    """What one publish did: rows written per table (none when unchanged) and the version."""

    rows: dict[str, int]
    version: int
    unchanged: bool
    restated: str | None = None  # whose sign-off this version restates ("unit user vN; …")
    #: the published load frames' hashes (the next correction's old side), when made
    hashes: Mapping[str, Hashed] | None = field(default=None, compare=False, repr=False)


def _publish_once(
    url: str,
    day: date,
    loads: Mapping[str, pd.DataFrame],
    catalogue: Catalogue,
    provenance: Provenance,
    hashed: Mapping[str, Hashed] | None = None,
) -> VersionPlan:
    """One attempt: schema, then the whole day and its version in ONE transaction."""
    with _engine(url, PUBLISH_APPLICATION) as engine:
        with engine.begin() as conn:
            ensure_schema(conn, catalogue)
        with engine.begin() as conn:
            partitioned = partitioned_tables(conn)
            if _is_pg(conn):
                _lock(conn, period_lock_key(day))
                if partitioned:  # the swap below locks the parents: one publisher at a time
                    _lock(conn, _ORG_UNIT_LOCK_KEY)
            else:
                _sqlite_bulk_pragmas(conn)
            plan = _plan_version(conn, day, loads, catalogue, provenance, hashed)
            if plan.unchanged:
                return plan
            _write_version(conn, day, plan)
            plain = [t for t in PER_DAY_TABLES if t not in partitioned]
            for table in plain:
                _delete(conn, table, day)
            for table in plain:
                _bulk(conn, table, loads[table])
            staged = {
                table: _stage_day(conn, table, day, plan.version, loads[table])
                for table in PER_DAY_TABLES
                if table in partitioned
            }
            if _is_pg(conn):
                _lock(conn, _ORG_UNIT_LOCK_KEY)  # org_unit is shared by all days
            _delete(conn, "org_unit", None)
            _bulk(conn, "org_unit", loads["org_unit"])
            for table, name in staged.items():  # last: readers wait only for the commit
                _swap_day(conn, table, day, name)
    return plan


# ---- PostgreSQL: one partition per day -------------------------------------------------


def partitioned_tables(conn: Connection) -> set[str]:
    """The per-day tables laid out one partition per day (PostgreSQL only).

    A warehouse created before this layout keeps its plain tables: they are published as
    before (DELETE of the day, then COPY).
    """
    if not _is_pg(conn):
        return set()
    found = conn.execute(text(load_sql("publish/postgresql/select_partitioned_tables.sql")))
    return set(found.scalars()) & set(PER_DAY_TABLES)


def _day_literal(day: date) -> str:
    """A day as a DATE literal for DDL (partition bounds take no bound parameters)."""
    if not isinstance(day, date):
        raise TypeError(f"a partition bound must be a date, got {type(day).__name__}")
    return f"DATE '{day.isoformat()}'"


def _stage_day(conn: Connection, table: str, day: date, version: int, frame: pd.DataFrame) -> str:
    """The day's rows COPYed into a new table shaped like ``table``, its primary key built
    once after the load (an index maintained row by row is what made COPY slow).

    The CHECK on ``period`` lets ATTACH skip scanning the rows; the name carries the day
    and the version, plus a token, so it never meets an older partition's name.
    """
    name = f"{table}_{day:%Y%m%d}_v{version}_{secrets.token_hex(3)}"
    conn.execute(
        text(
            load_sql("publish/postgresql/create_day_stage.sql").format(
                partition=_q(name), table=_q(table), check=_q(f"{name}_day"), day=_day_literal(day)
            )
        )
    )
    _bulk(conn, name, frame)
    keys = PRIMARY_KEYS.get(table)
    if keys:
        stmt = load_sql("publish/postgresql/add_primary_key.sql").format(
            partition=_q(name), name=_q(f"{name}_pkey"), columns=", ".join(_q(k) for k in keys)
        )
        conn.execute(text(stmt))
    return name


def _swap_day(conn: Connection, table: str, day: date, staged: str) -> None:
    """Drop the day's old partition, attach the staged one (secondary indexes are built
    here, on the new rows only); rows of the day that went to the default partition (a
    writer that inserted a day with no partition yet) are superseded too."""
    found = conn.execute(
        text(load_sql("publish/postgresql/select_day_partitions.sql")),
        {"parent": table, "prefix": f"{table}_{day:%Y%m%d}_"},
    )
    for name in found.scalars().all():
        conn.execute(
            text(load_sql("publish/postgresql/drop_partition.sql").format(partition=_q(name)))
        )
    delete = load_sql("publish/postgresql/delete_day_from_partition.sql")
    conn.execute(
        text(delete.format(partition=_q(f"{table}_default"))).bindparams(
            bindparam("period", type_=Date)
        ),
        {"period": day},
    )
    attach = load_sql("publish/postgresql/attach_day_partition.sql")
    conn.execute(text(attach.format(table=_q(table), partition=_q(staged), day=_day_literal(day))))


def _sqlite_bulk_pragmas(conn: Connection) -> None:
    """SQLite: settings of this connection for one big write transaction (a bigger page
    cache, temp in memory). ``synchronous=NORMAL`` was measured too (bench_replace_day:
    no gain on a national day, the executemany is CPU-bound) and is left off: in the
    rollback-journal mode it risks the file on a power cut."""
    for name in ("cache_size", "temp_store_memory"):
        conn.execute(text(load_sql(f"publish/sqlite/pragma_{name}.sql")))


def _day_rows(
    conn: Connection, table: str, day: date, spec: list[tuple[str, Kind]]
) -> pd.DataFrame:
    """The rows of ``table`` published for ``day``, typed as a load frame is."""
    if _is_pg(conn):
        frame = _copy_out(conn, table, day, spec)
        return pd.DataFrame({c: _typed(_read_typed(frame[c], k), k) for c, k in spec})
    stmt = text(load_sql("read/select_period.sql").format(table=_q(table)))
    result = conn.execute(stmt.bindparams(bindparam("period", type_=Date)), {"period": day})
    # plain tuples: from Row objects pandas probes each row's attributes (a KeyError
    # apiece), which made this read most of a replace's time at province scale
    frame = pd.DataFrame([tuple(r) for r in result], columns=list(result.keys()))
    return pd.DataFrame({c: _typed(_read_typed(frame[c], k), k) for c, k in spec})


def _copy_out(
    conn: Connection, table: str, day: date, spec: list[tuple[str, Kind]]
) -> pd.DataFrame:
    """PostgreSQL: the day's rows through COPY ... TO STDOUT (FORMAT csv), parsed by
    pyarrow: several times faster than fetching rows (the versioning reads the whole old
    day before every replace). NULL is an unquoted empty field, "" an empty string, as in
    :func:`copy_csv`."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [c for c, _ in spec]
    stmt = load_sql("publish/postgresql/copy_day_out.sql").format(
        table=_q(table), columns=", ".join(_q(c) for c in names)
    )
    buf = io.BytesIO()
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(stmt, {"period": day}) as copy:
        for block in copy:
            buf.write(block)
    if not buf.tell():  # no rows: pyarrow refuses an empty file
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in names})
    arrow = {"int": pa.int64(), "float": pa.float64()}
    parsed = pacsv.read_csv(
        io.BytesIO(buf.getbuffer()),
        read_options=pacsv.ReadOptions(column_names=names),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={c: arrow.get(k, pa.string()) for c, k in spec},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    return pd.DataFrame({c: parsed.column(c).to_pandas(types_mapper=_nullable) for c in names})


def _nullable(kind: object) -> object:
    """Arrow int64 → pandas Int64 (NULL kept as NA instead of a float NaN)."""
    import pyarrow as pa

    return pd.Int64Dtype() if kind == pa.int64() else None


def _plan_version(
    conn: Connection,
    day: date,
    loads: Mapping[str, pd.DataFrame],
    catalogue: Catalogue,
    provenance: Provenance,
    hashed: Mapping[str, Hashed] | None = None,
) -> VersionPlan:
    """The version this publish of ``day`` becomes, from what the day holds now."""
    params = {"period": day}
    date_param = bindparam("period", type_=Date)
    row = conn.execute(
        text(load_sql("versions/select_latest_version.sql")).bindparams(date_param), params
    ).first()
    latest = None if row is None else (int(row[0]), str(row[1]))
    had_rows = bool(
        conn.execute(
            text(load_sql("versions/count_day_rows.sql")).bindparams(date_param), params
        ).scalar()
    )
    digest = versions.tables_digest(loads, {t: h.rows for t, h in (hashed or {}).items()})
    if latest is not None and latest[1] == digest:  # nothing changed: read nothing more
        return versions.plan_version(
            day=day.isoformat(),
            latest=latest,
            had_rows=had_rows,
            digest=digest,
            provenance=provenance,
            inputs=[],
            old={},
            new={},
            causes=pd.Series(dtype="str"),
        )
    if latest is None and not had_rows:  # the day's first publish: nothing to diff
        return versions.plan_version(
            day=day.isoformat(),
            latest=None,
            had_rows=False,
            digest=digest,
            provenance=provenance,
            inputs=versions.input_files(loads["submission_ledger"]),
            old={},
            new={},
            causes=pd.Series(dtype="str"),
        )
    old = {t: _day_rows(conn, t, day, SPECS[t]) for t in versions.VERSIONED}
    old_report = _day_rows(conn, "report", day, report_spec(catalogue))
    changed = versions.reporter_causes(
        old_report, loads["report"], loads["submission_ledger"], day_waivers(conn, day)
    )
    signoffs = _day_signoffs(conn, day)
    return versions.plan_version(
        day=day.isoformat(),
        latest=latest,
        had_rows=had_rows,
        digest=digest,
        provenance=provenance,
        inputs=versions.input_files(loads["submission_ledger"]),
        old=old,
        new={t: loads[t] for t in versions.VERSIONED},
        causes=versions.unit_causes(changed, loads["org_unit"]),
        signoffs=signoffs,
    )


def day_waivers(conn: Connection, day: date) -> pd.DataFrame:
    """The stewards' waivers of ``day`` (accepted values, kept rows), read in the publish's
    own transaction: a row they let through is the steward's change, not its file's."""
    if not inspect(conn).has_table("review_waiver"):
        return pd.DataFrame(columns=["file_id", "sheet", "row_number", "rule", "username", "at"])
    stmt = text(load_sql("review/select_waivers_period.sql"))
    result = conn.execute(stmt.bindparams(bindparam("period", type_=Date)), {"period": day})
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _day_signoffs(conn: Connection, day: date) -> pd.DataFrame:
    """The stewards' sign-offs of ``day`` (none before any steward signed anything)."""
    if not inspect(conn).has_table("review_signoff"):
        return pd.DataFrame(columns=["unit_code", "version", "username"])
    stmt = text(load_sql("review/select_signoffs_period.sql"))
    result = conn.execute(stmt.bindparams(bindparam("period", type_=Date)), {"period": day})
    return rows_frame(result)


def _ts_param(conn: Connection, at: datetime) -> datetime | str:
    """A time as the warehouse compares it: PostgreSQL a timestamptz, SQLite the UTC text
    every timestamp column holds (``_TS_FORMAT``), which sorts as the times do."""
    at = at.astimezone(UTC)
    return at if _is_pg(conn) else at.strftime(_TS_FORMAT)


def _write_version(conn: Connection, day: date, plan: VersionPlan) -> None:
    insert = text(load_sql("versions/insert_version.sql")).bindparams(
        bindparam("period", type_=Date)
    )
    for record in (plan.backfill_first, plan.record):
        if record is not None:
            at = record["published_at"]
            record = {**record, "published_at": None if at is None else _ts_param(conn, at)}
            conn.execute(insert, {"period": day, **record})
    _bulk(conn, "publish_version_input", plan.inputs)
    for table, rows in plan.changes.items():
        _bulk(conn, f"{table}_change", rows)


def is_disconnect(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) means the connection to the server was lost.

    SQLAlchemy marks the errors it saw on a dead connection ``connection_invalidated``;
    COPY runs on the raw psycopg connection, whose errors arrive unwrapped: there a
    connection-level OperationalError/InterfaceError has no SQLSTATE (client side: refused,
    reset, EOF), SQLSTATE class 08, or 57P01-57P03 (the server ended the session).
    """
    import psycopg
    from sqlalchemy.exc import DBAPIError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError):
            if current.connection_invalidated:
                return True
            if current.orig is not None and current.orig is not current:
                current = current.orig
                continue
        if isinstance(current, psycopg.OperationalError | psycopg.InterfaceError):
            state = current.sqlstate
            if state is None or state.startswith("08") or state in _DISCONNECT_STATES:
                return True
        current = current.__cause__ or current.__context__
    return False


def _env_number(name: str, default: float, given: float | None) -> float:
    """An explicit argument, else the environment variable, else the default; never < 0."""
    if given is not None:
        value = float(given)
    else:
        raw = os.environ.get(name, "").strip()
        try:
            value = float(raw) if raw else float(default)
        except ValueError as exc:
            raise ValueError(f"{name}={raw!r} is not a number") from exc
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


def read_table(
    url: str,
    table: str,
    period: date | str | None = None,
    *,
    catalogue: Catalogue | None = None,
    units: Sequence[str] | None = None,
) -> pd.DataFrame:
    """A warehouse table (optionally one period) as a frame typed like the pipeline's.

    ``units``: only these unit codes of the period (a unit's subtree: one index range
    per code on the primary key instead of the whole day). ``period`` comes back as an
    ISO date string and timestamps as UTC datetimes on both dialects; NULL is NA. Rows
    are sorted by the table's key.
    """
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; one of {TABLES}")
    if isinstance(period, str):
        period = date.fromisoformat(period)
    with _engine(url) as engine, engine.connect() as conn:
        if period is None:
            stmt = text(load_sql("read/select_all.sql").format(table=_q(table)))
            result = conn.execute(stmt)
            frame = rows_frame(result)
        elif units is not None:
            stmt = text(load_sql("read/select_period_units.sql").format(table=_q(table)))
            stmt = stmt.bindparams(
                bindparam("period", type_=Date), bindparam("units", expanding=True, type_=String)
            )
            frame = _chunked(conn, stmt, {"period": period}, units)
        else:
            stmt = text(load_sql("read/select_period.sql").format(table=_q(table)))
            stmt = stmt.bindparams(bindparam("period", type_=Date))
            result = conn.execute(stmt, {"period": period})
            frame = rows_frame(result)
    if table == "report":
        spec = report_spec(catalogue) if catalogue else REPORT_META
    else:
        spec = SPECS[table]
    kinds = dict(spec)
    for col in frame.columns:
        kind = kinds.get(col)
        if kind is None:  # report indicator column without a catalogue
            numeric = pd.to_numeric(frame[col], errors="coerce")
            kind = "int" if numeric.notna().sum() == frame[col].notna().sum() else "text"
        frame[col] = _read_typed(frame[col], kind)
    keys = [k for k in ORDER[table] if k in frame.columns]
    return frame.sort_values(keys, kind="stable", na_position="first").reset_index(drop=True)


#: Unit codes bound per statement: well inside SQLite's 32,766 and PostgreSQL's 65,535
#: parameters of one statement.
_UNITS_PER_STATEMENT = 10_000


def _chunked(
    conn: Connection, stmt: TextClause, params: dict[str, object], units: Sequence[str]
) -> pd.DataFrame:
    """``stmt`` run for ``units`` in bounded batches (``:units`` an expanding parameter)."""
    codes = sorted(set(units))
    frames = []
    for k in range(0, max(len(codes), 1), _UNITS_PER_STATEMENT):
        batch = codes[k : k + _UNITS_PER_STATEMENT]
        frames.append(rows_frame(conn.execute(stmt, {**params, "units": batch})))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _read_typed(series: pd.Series, kind: Kind) -> pd.Series:
    if kind == "date":
        return series.map(lambda v: v if v is None or isinstance(v, str) else v.isoformat()).astype(
            "str"
        )
    if kind == "ts":
        return pd.to_datetime(series, utc=True, format="mixed")
    if kind in ("int", "float"):
        numeric = pd.to_numeric(series)
        return numeric.astype("Int64") if kind == "int" else numeric.astype("float64")
    return series.astype("str")


# ---- periods beyond the day (week / 旬 / month) ---------------------------------------

_PERIOD_KEY: list[tuple[str, Kind]] = [
    ("period_type", "text"),
    ("period_start", "date"),
    ("period_end", "date"),
    ("period_label", "text"),
    ("through", "date"),
]
PERIOD_SPECS: dict[str, list[tuple[str, Kind]]] = {
    "period_consolidated": [
        *_PERIOD_KEY,
        *[c for c in SPECS["consolidated"] if c[0] != "period"],
        ("carried_units", "int"),
    ],
    "period_completeness": [
        *_PERIOD_KEY,
        ("unit_code", "text"),
        ("unit_name", "text"),
        ("level", "int"),
        ("kind", "text"),
        ("expected_units", "int"),
        ("reporters_reported", "int"),
        ("missing_units", "int"),
        ("reporting_rate", "float"),
        ("days", "int"),
        ("days_published", "int"),
        ("reporter_days_expected", "int"),
        ("reporter_days_received", "int"),
        ("reporter_days_rate", "float"),
    ],
}
_PERIOD_PK = {
    "period_consolidated": ["period_type", "period_start", "unit_code", "indicator"],
    "period_completeness": ["period_type", "period_start", "unit_code"],
}


def _repeats_a_key(frame: pd.DataFrame, key: list[str]) -> bool:
    """Whether two rows share ``key``: columns holding one value throughout are left out
    and the rest are compared as combined integer codes. ``DataFrame.duplicated`` over the
    whole key factorized every column at once and was the national periods step's
    memory peak (3.0 GB sampled, 2 M consolidated rows of four string columns)."""
    if len(frame) < 2:
        return False
    combined = np.zeros(len(frame), dtype="int64")
    for col in key:
        codes, uniques = pd.factorize(frame[col], use_na_sentinel=False)
        if len(uniques) > 1:
            if combined.max() > np.iinfo("int64").max // len(uniques):
                combined = pd.factorize(combined)[0]  # renumbered below len(frame)
            combined = combined * len(uniques) + codes
    return bool(len(np.unique(combined)) < len(combined))


def publish_period(
    url: str,
    period_type: str,
    period_start: date,
    consolidated: pd.DataFrame,
    completeness: pd.DataFrame,
    catalogue: Catalogue,
    run_id: str | None = None,
) -> dict[str, int]:
    """Replace one week/旬/month in ``period_*`` in one transaction; daily rows untouched.

    Its ``publication`` row (when, by which run, computed through which day) is replaced
    in the same transaction.
    """
    loads = {}
    for table, frame in (
        ("period_consolidated", consolidated),
        ("period_completeness", completeness),
    ):
        spec = PERIOD_SPECS[table]
        absent = [c for c, _ in spec if c not in frame.columns]
        if absent:
            raise ValueError(f"{table}: frame lacks columns {absent}")
        out = pd.DataFrame({c: _typed(frame[c], k) for c, k in spec})
        if len(out) and (out["period_type"] != period_type).any():
            raise ValueError(f"{table}: rows of another period type in {period_type}")
        if _repeats_a_key(out, _PERIOD_PK[table]):
            raise ValueError(f"{table}: more than one row per key")
        loads[table] = out
    params = {"period_type": period_type, "period_start": period_start}
    with _engine(url, PUBLISH_APPLICATION) as engine:
        with engine.begin() as conn:
            ensure_schema(conn, catalogue)
        with engine.begin() as conn:
            if _is_pg(conn):
                _lock(conn, -period_lock_key(period_start) - PERIOD_TYPES_LOCK[period_type])
            for table, frame in loads.items():
                stmt = text(load_sql(f"periods/delete_{table}.sql"))
                stmt = stmt.bindparams(bindparam("period_start", type_=Date))
                conn.execute(stmt, params)
                _bulk(conn, table, frame)
            if not len(loads["period_consolidated"]):
                conn.execute(
                    text(load_sql("publish/delete_publication.sql")).bindparams(
                        bindparam("period_start", type_=Date)
                    ),
                    params,
                )
            else:
                first = loads["period_consolidated"].iloc[0]
                record_publication(
                    conn,
                    period_type,
                    period_start,
                    date.fromisoformat(str(first["period_end"])),
                    str(first["period_label"]),
                    date.fromisoformat(str(first["through"])),
                    run_id,
                )
    return {table: len(frame) for table, frame in loads.items()}


#: Offsets that keep the advisory-lock keys of periods apart from days' and each other's.
PERIOD_TYPES_LOCK = {"week": 100_000_000, "xun": 200_000_000, "month": 300_000_000}


def read_period_table(
    url: str,
    table: str,
    period_type: str,
    period_start: date,
    *,
    units: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One week/旬/month of ``period_consolidated`` or ``period_completeness``, typed;
    ``units``: only these unit codes."""
    if table not in PERIOD_SPECS:
        raise ValueError(f"unknown period table {table!r}; one of {tuple(PERIOD_SPECS)}")
    params = {"period_type": period_type, "period_start": period_start}
    try:
        with _engine(url) as engine, engine.connect() as conn:
            if units is None:
                stmt = text(load_sql(f"periods/select_{table}.sql"))
                stmt = stmt.bindparams(bindparam("period_start", type_=Date))
                result = conn.execute(stmt, params)
                frame = rows_frame(result)
            else:
                stmt = text(load_sql("periods/select_period_units.sql").format(table=_q(table)))
                stmt = stmt.bindparams(
                    bindparam("period_start", type_=Date),
                    bindparam("units", expanding=True, type_=String),
                )
                frame = _chunked(conn, stmt, params, units)
    except Exception as exc:  # a warehouse that never published a period has no table
        from sqlalchemy.exc import OperationalError, ProgrammingError

        if isinstance(exc, OperationalError | ProgrammingError):
            frame = pd.DataFrame(columns=[c for c, _ in PERIOD_SPECS[table]])
        else:
            raise
    for col, kind in PERIOD_SPECS[table]:
        frame[col] = _read_typed(frame[col], kind)
    keys = [k for k in _PERIOD_PK[table] if k in frame.columns]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def read_day_range(
    url: str,
    table: str,
    start: date,
    end: date,
    *,
    catalogue: Catalogue | None = None,
    prefix: str | None = None,
    columns: Collection[str] | None = None,
) -> pd.DataFrame:
    """The published daily rows of ``table`` for the days ``start``..``end`` (inclusive).

    ``columns``: only those of the table's columns (all by default), e.g. the period step
    does not read a national day's file names, sheets and row numbers.

    ``prefix``: only the units whose code starts with it. Official codes extend their
    parent's code (a county's townships, villages and departments all start with the
    county's code), so one bound ``LIKE`` reads a subtree without reading the whole day;
    callers still filter to the exact subtree.
    """
    if table not in PER_DAY_TABLES:
        raise ValueError(f"not a per-day table: {table!r}")
    params: dict[str, object] = {"start": start, "end": end}
    sql = "periods/select_day_range.sql"
    if prefix is not None:
        sql = "periods/select_day_range_prefix.sql"
        params["prefix"] = prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
    with _engine(url) as engine, engine.connect() as conn:
        picked = "*"
        if columns is not None:  # in the table's order; its sort keys always
            wanted = {*ORDER[table], *columns}
            have = [c["name"] for c in inspect(conn).get_columns(table)]
            picked = ", ".join(_q(c) for c in have if c in wanted)
        stmt = text(load_sql(sql).format(table=_q(table), columns=picked))
        stmt = stmt.bindparams(bindparam("start", type_=Date), bindparam("end", type_=Date))
        result = conn.execute(stmt, params)
        spec = _day_spec(table, catalogue)
        typed: set[str] = set()
        if set(result.keys()) <= {c for c, _ in spec}:
            frame = _typed_chunks(result, spec)
            typed = {c for c, kind in spec if kind != "ts"}
        else:  # a column the spec does not type (an indicator dropped from the catalogue)
            frame = rows_frame(result)
    return _typed_day_rows(frame, table, catalogue, typed=typed)


#: Rows fetched and typed at a time by :func:`_typed_chunks`.
_FETCH_ROWS = 50_000


def _typed_chunks(result: CursorResult, spec: list[tuple[str, Kind]]) -> pd.DataFrame:
    """The rows typed ``_FETCH_ROWS`` at a time: a national day's 578 k report rows as
    Python tuples at once were about 1.5 GB, most of the periods step's peak. Timestamps
    are parsed once at the end, so their resolution is the whole read's; every other
    kind converts chunk by chunk to the dtype a whole read gives."""
    columns = list(result.keys())
    kinds = dict(spec)
    parts: list[pd.DataFrame] = []
    while rows := result.cursor.fetchmany(_FETCH_ROWS):
        chunk = pd.DataFrame.from_records(rows, columns=columns)
        del rows
        for col in columns:
            if kinds[col] != "ts":
                chunk[col] = _read_typed(chunk[col], kinds[col])
        parts.append(chunk)
    if not parts:
        return pd.DataFrame.from_records([], columns=columns)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _day_spec(table: str, catalogue: Catalogue | None) -> list[tuple[str, Kind]]:
    if table == "report":
        return report_spec(catalogue) if catalogue else REPORT_META
    return SPECS[table]


def _typed_day_rows(
    frame: pd.DataFrame,
    table: str,
    catalogue: Catalogue | None,
    typed: Collection[str] = (),
) -> pd.DataFrame:
    """The spec's types (``typed``: columns converted already) and the table's order."""
    for col, kind in _day_spec(table, catalogue):
        if col in frame.columns and col not in typed:
            frame[col] = _read_typed(frame[col], kind)
    keys = [k for k in ORDER[table] if k in frame.columns]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


# ---- versions: what a day was at a time, and what changed --------------------------------

#: The as-of view of each versioned table (sql/views).
ASOF_VIEWS = {table: f"{table}_asof" for table in versions.VERSIONED}
_VERSION_SPEC: list[tuple[str, Kind]] = [
    ("period", "date"),
    ("version", "int"),
    ("published_at", "ts"),
    ("trigger", "text"),
    ("run_id", "text"),
    ("note", "text"),
    ("inputs", "int"),
    ("inputs_digest", "text"),
    ("tables_digest", "text"),
    ("changed_values", "int"),
    ("changed_units", "int"),
    ("restatement", "int"),
    ("restated", "text"),
]


def _query(url: str, sql: str, params: dict[str, object], **fmt: str) -> pd.DataFrame:
    """A read of the version tables; a warehouse that never versioned gives no rows."""
    stmt = text(load_sql(sql).format(**fmt)).bindparams(bindparam("period", type_=Date))
    with _engine(url) as engine, engine.connect() as conn:
        if not inspect(conn).has_table("publish_version"):
            return pd.DataFrame()
        if isinstance(params.get("at"), datetime):
            params = {**params, "at": _ts_param(conn, params["at"])}
        result = conn.execute(stmt, params)
        return rows_frame(result)


def read_versions(url: str, day: date) -> pd.DataFrame:
    """Every version of ``day``, oldest first (``publish_version`` columns, typed)."""
    frame = _query(url, "versions/select_versions.sql", {"period": day})
    frame = frame.reindex(columns=[c for c, _ in _VERSION_SPEC])
    return pd.DataFrame({c: _read_typed(frame[c], k) for c, k in _VERSION_SPEC})


def version_at(url: str, day: date, at: datetime) -> int | None:
    """The version of ``day`` that was current at ``at`` (None: not yet published then)."""
    if at.tzinfo is None:
        raise ValueError("a time without a zone is ambiguous: give an offset, e.g. +08:00")
    frame = _query(url, "versions/select_version_at.sql", {"period": day, "at": at})
    if frame.empty or pd.isna(frame.iloc[0, 0]):
        return None
    return int(frame.iloc[0, 0])


def read_asof(url: str, table: str, day: date, version: int) -> pd.DataFrame:
    """``table``'s rows of ``day`` as version ``version`` published them, typed and
    ordered like :func:`read_table` (so a frame compares equal to a read made then)."""
    if table not in ASOF_VIEWS:
        raise ValueError(f"no history for {table!r}; one of {tuple(ASOF_VIEWS)}")
    frame = _query(
        url,
        "versions/select_asof.sql",
        {"period": day, "version": version},
        view=_q(ASOF_VIEWS[table]),
    )
    frame = frame.reindex(columns=[c for c, _ in SPECS[table]])
    out = pd.DataFrame({c: _read_typed(frame[c], k) for c, k in SPECS[table]})
    return out.sort_values(ORDER[table], kind="stable", na_position="first").reset_index(drop=True)


def read_changes(url: str, day: date, version: int, table: str = "consolidated") -> pd.DataFrame:
    """The change report of one version: per unit (and indicator), old → new and cause."""
    return _changes(url, "select_changes", {"period": day, "version": version}, table)


def read_changes_since(
    url: str, day: date, since: int, table: str = "consolidated"
) -> pd.DataFrame:
    """The change rows of every version of ``day`` after ``since`` (ordered by unit, then
    version): what changed since an agency downloaded version ``since``."""
    return _changes(url, "select_changes_since", {"period": day, "since": since}, table)


def _changes(url: str, sql: str, params: dict[str, object], table: str) -> pd.DataFrame:
    if table not in versions.VERSIONED:
        raise ValueError(f"no history for {table!r}; one of {tuple(versions.VERSIONED)}")
    frame = _query(url, f"versions/{sql}.sql", params, table=_q(f"{table}_change"))
    if frame.empty:
        return frame
    frame["period"] = _read_typed(frame["period"], "date")
    key = ["unit_code", *versions.VERSIONED[table][1:]]
    order = [*key, "version"] if frame["version"].nunique() > 1 else key
    return frame.sort_values(order).reset_index(drop=True)


def last_published_day(url: str, start: date, end: date) -> date | None:
    """The latest day between ``start`` and ``end`` with published rows (None: none)."""
    stmt = text(load_sql("periods/select_last_published_day.sql")).bindparams(
        bindparam("start", type_=Date), bindparam("end", type_=Date)
    )
    with _engine(url) as engine, engine.connect() as conn:
        found = conn.execute(stmt, {"start": start, "end": end}).scalar()
    if found is None:
        return None
    return found if isinstance(found, date) else date.fromisoformat(str(found)[:10])
