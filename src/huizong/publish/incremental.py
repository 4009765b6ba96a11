"""Publish a corrected day by writing only the rows that changed, as the day's next version.

Why: replacing a national day deletes and re-inserts 3.25 M rows (about two minutes on
PostgreSQL) when a steward corrected one village, which changes a few hundred. The day's
previous frames (the hand-over of the run that published it) are diffed against the new
ones, table by table, on the table's key (``PRIMARY_KEYS``; the issue tables on their row
key ``file_id, sheet, row_number``); only the touched keys are deleted and their new rows
inserted, in ONE transaction with the version row and its change records, so readers see
the old version or the new one, never a mix.

The result is what :func:`huizong.publish.warehouse.publish_tables` would leave: the same
rows, the same ``publish_version`` row (its ``tables_digest`` is over the whole new day) and
the same change records (``plan_version`` is given the touched rows only, which is all its
diff keeps). A test publishes one correction both ways and compares every table.

It is only safe when the warehouse holds exactly the previous frames: inside the
transaction the day's latest ``tables_digest`` must equal the digest of those frames,
else :func:`publish_changed` returns ``None`` and writes nothing (the caller then replaces
the day in full). A key with a missing part (which ``=`` cannot match) also returns ``None``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Date, bindparam, text

from huizong.catalogue import Catalogue
from huizong.publish import versions
from huizong.publish.versions import Provenance
from huizong.publish.warehouse import (
    _ORG_UNIT_LOCK_KEY,
    DEFAULT_BACKOFF_SECONDS,
    DEFAULT_RETRIES,
    MAX_BACKOFF_SECONDS,
    PRIMARY_KEYS,
    PUBLISH_APPLICATION,
    TABLES,
    DayTables,
    PublishOutcome,
    _bulk,
    _day_signoffs,
    _env_number,
    _is_pg,
    _lock,
    _write_version,
    day_frames,
    day_waivers,
    ensure_schema,
    is_disconnect,
    period_lock_key,
)
from huizong.registry import Registry
from huizong.sqlfiles import load_sql
from huizong.warehouse import engine as _engine

#: The key each table's changed rows are replaced by (the issue tables have no primary
#: key: all rows of one received row are replaced together).
ROW_KEYS: dict[str, list[str]] = {
    **PRIMARY_KEYS,
    "quarantine": ["period", "file_id", "sheet", "row_number"],
    "validation_warning": ["period", "file_id", "sheet", "row_number"],
}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delta:
    """One table's change: the keys to delete and the rows to insert."""

    keys: pd.DataFrame  # touched keys present before (ROW_KEYS columns)
    rows: pd.DataFrame  # the new rows of every touched key


@dataclass(frozen=True)
class Hashed:
    """A load frame's row hashes and key hashes, computed once (the delta and the
    day's digest both need the row hashes of the whole day)."""

    rows: np.ndarray  # uint64 per row (``hash_pandas_object``, no index)
    keys: np.ndarray  # uint64 per row, of its ROW_KEYS columns

    @classmethod
    def of(cls, table: str, frame: pd.DataFrame) -> Hashed:
        rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        return cls(rows=rows, keys=_key_hash(frame, ROW_KEYS[table]).to_numpy())


def table_delta(
    table: str,
    old: pd.DataFrame,
    new: pd.DataFrame,
    hashed: tuple[Hashed, Hashed] | None = None,
) -> Delta:
    """The keys whose rows differ between ``old`` and ``new`` (load frames of ``table``).

    Rows are compared as a multiset per key (the sum of their row hashes), so the order
    rows come in never counts as a change. ``hashed``: both frames' hashes, if known.
    """
    key = ROW_KEYS[table]
    h_old, h_new = hashed or (Hashed.of(table, old), Hashed.of(table, new))
    sigs = [_signatures(h) for h in (h_old, h_new)]
    both = sigs[0].to_frame("old").join(sigs[1].to_frame("new"), how="outer")
    touched = both.index[~(both["old"] == both["new"]).fillna(False).to_numpy(dtype=bool)]
    old_hit = np.isin(h_old.keys, touched)
    new_hit = np.isin(h_new.keys, touched)
    keys = old.loc[old_hit, key].drop_duplicates().reset_index(drop=True)
    return Delta(keys=keys, rows=new.loc[new_hit].reset_index(drop=True))


def unchanged_delta(table: str, frame: pd.DataFrame) -> Delta:
    """The delta of a table whose rows are the same on both sides: nothing touched."""
    return Delta(keys=frame[ROW_KEYS[table]].iloc[:0], rows=frame.iloc[:0])


def _key_hash(frame: pd.DataFrame, key: list[str]) -> pd.Series:
    return pd.util.hash_pandas_object(frame[key], index=False)


def _signatures(hashed: Hashed) -> pd.Series:
    """Per key hash: the sum of its rows' hashes (mod 2**64) plus their count."""
    keyed = pd.DataFrame({"key": hashed.keys, "row": hashed.rows})
    grouped = keyed.groupby("key", sort=False)["row"]
    return grouped.sum().astype("uint64") + grouped.size().astype("uint64")


def publish_changed(
    url: str,
    day: date,
    old: DayTables,
    new: DayTables,
    registry: Registry,
    catalogue: Catalogue,
    *,
    provenance: Provenance,
    retries: int | None = None,
    backoff: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[PublishOutcome, dict[str, int]] | None:
    """Publish ``new`` over ``old`` (what the warehouse holds for ``day``) writing only the
    changed rows; the outcome and the rows written per table, or ``None`` (nothing written)
    when the warehouse does not hold ``old``. Lost connections are retried as
    :func:`publish_tables` retries them (``HUIZONG_PUBLISH_RETRIES`` / ``_BACKOFF``)."""
    old_loads = day_frames(day, old, registry, catalogue)
    # both days' org_unit rows come from the one registry: built and hashed once, and
    # never a change (665 k of a national day's 3.25 M rows)
    new_loads = day_frames(day, new, registry, catalogue, org_unit=old_loads["org_unit"])
    hashed = {}
    for t in TABLES:
        if t == "org_unit":  # rows only: the digest needs them, no delta does
            rows = pd.util.hash_pandas_object(old_loads[t], index=False).to_numpy()
            hashed[t] = (Hashed(rows, rows[:0]),) * 2
        else:
            hashed[t] = (Hashed.of(t, old_loads[t]), Hashed.of(t, new_loads[t]))
    deltas = {
        t: unchanged_delta(t, old_loads[t])
        if t == "org_unit"
        else table_delta(t, old_loads[t], new_loads[t], hashed[t])
        for t in TABLES
    }
    if any(
        d.keys.isna().any().any() or d.rows[ROW_KEYS[t]].isna().any().any()
        for t, d in deltas.items()
    ):
        return None
    base = versions.tables_digest(old_loads, {t: h[0].rows for t, h in hashed.items()})
    digest = versions.tables_digest(new_loads, {t: h[1].rows for t, h in hashed.items()})
    attempts = int(_env_number("HUIZONG_PUBLISH_RETRIES", DEFAULT_RETRIES, retries)) + 1
    backoff = _env_number("HUIZONG_PUBLISH_BACKOFF", DEFAULT_BACKOFF_SECONDS, backoff)
    for attempt in range(1, attempts + 1):
        try:
            plan = _publish_once(
                url, day, base, digest, old_loads, new_loads, deltas, catalogue, provenance
            )
        except Exception as exc:
            if not is_disconnect(exc) or attempt == attempts:
                raise
            delay = min(backoff * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
            log.warning(
                "publishing the changes of %s: connection lost (%s); retrying in %.1f s",
                day,
                type(exc).__name__,
                delay,
            )
            sleep(delay)
            continue
        if plan is None:
            return None
        if plan.unchanged:
            return PublishOutcome({}, plan.version, True, None), {}
        rows = {t: len(frame) for t, frame in new_loads.items()}
        written = {t: len(d.rows) for t, d in deltas.items()}
        return PublishOutcome(rows, plan.version, False, plan.record.get("restated")), written
    raise AssertionError("unreachable: the last attempt returns or raises")


def _publish_once(
    url: str,
    day: date,
    base: str,
    digest: str,
    old_loads: Mapping[str, pd.DataFrame],
    new_loads: Mapping[str, pd.DataFrame],
    deltas: Mapping[str, Delta],
    catalogue: Catalogue,
    provenance: Provenance,
) -> versions.VersionPlan | None:
    with _engine(url, PUBLISH_APPLICATION) as engine:
        with engine.begin() as conn:
            ensure_schema(conn, catalogue)
        with engine.begin() as conn:
            if _is_pg(conn):
                _lock(conn, period_lock_key(day))
            row = conn.execute(
                text(load_sql("versions/select_latest_version.sql")).bindparams(
                    bindparam("period", type_=Date)
                ),
                {"period": day},
            ).first()
            latest = None if row is None else (int(row[0]), str(row[1]))
            if latest is None or latest[1] not in (base, digest):
                return None  # not the tables we started from: the caller replaces the day
            plan = _plan(conn, day, latest, digest, old_loads, new_loads, deltas, provenance)
            if plan.unchanged:
                return plan
            _write_version(conn, day, plan)
            for table in TABLES:
                if table == "org_unit" and _is_pg(conn) and not deltas[table].keys.empty:
                    _lock(conn, _ORG_UNIT_LOCK_KEY)  # org_unit is shared by all days
                _replace(conn, table, day, deltas[table])
    return plan


def _plan(
    conn: Connection,
    day: date,
    latest: tuple[int, str],
    digest: str,
    old_loads: Mapping[str, pd.DataFrame],
    new_loads: Mapping[str, pd.DataFrame],
    deltas: Mapping[str, Delta],
    provenance: Provenance,
) -> versions.VersionPlan:
    """The version as ``publish_tables`` plans it, from the touched rows only."""

    def touched(table: str, frame: pd.DataFrame) -> pd.DataFrame:
        d = deltas[table]
        key = ROW_KEYS[table]
        hit = pd.concat([d.keys, d.rows[key]]).drop_duplicates()
        return frame.merge(hit, on=key, how="inner") if len(hit) else frame.iloc[:0]

    old = {t: touched(t, old_loads[t]) for t in versions.VERSIONED}
    new = {t: touched(t, new_loads[t]) for t in versions.VERSIONED}
    changed = versions.reporter_causes(
        touched("report", old_loads["report"]),
        touched("report", new_loads["report"]),
        new_loads["submission_ledger"],
        day_waivers(conn, day),
    )
    return versions.plan_version(
        day=day.isoformat(),
        latest=latest,
        had_rows=True,
        digest=digest,
        provenance=provenance,
        inputs=versions.input_files(new_loads["submission_ledger"]),
        old=old,
        new=new,
        causes=versions.unit_causes(changed, new_loads["org_unit"]),
        signoffs=_day_signoffs(conn, day),
    )


def _replace(conn: Connection, table: str, day: date, delta: Delta) -> None:
    """Delete the touched keys' old rows, insert their new rows."""
    if not delta.keys.empty:
        stmt = text(load_sql(f"publish/incremental/delete_{table}.sql"))
        params = delta.keys.astype(object).where(delta.keys.notna(), None).to_dict("records")
        if "period" in delta.keys.columns:
            stmt = stmt.bindparams(bindparam("period", type_=Date))
            for p in params:
                p["period"] = day
        conn.execute(stmt, params)
    _bulk(conn, table, delta.rows)
