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
    PUBLISH_APPLICATION,
    ROW_KEYS,
    SPECS,
    TABLES,
    DayTables,
    Hashed,
    PublishOutcome,
    _bulk,
    _day_signoffs,
    _env_number,
    _is_pg,
    _lock,
    _write_version,
    day_frames,
    day_sources,
    day_waivers,
    ensure_schema,
    is_disconnect,
    load_frame,
    period_lock_key,
    report_spec,
)
from huizong.registry import Registry
from huizong.sqlfiles import load_sql
from huizong.warehouse import engine as _engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delta:
    """One table's change: the keys to delete and the rows to insert."""

    keys: pd.DataFrame  # touched keys present before (ROW_KEYS columns)
    rows: pd.DataFrame  # the new rows of every touched key


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
    old_hit, new_hit = _hits(h_old, h_new)
    keys = old.loc[old_hit, key].drop_duplicates().reset_index(drop=True)
    return Delta(keys=keys, rows=new.loc[new_hit].reset_index(drop=True))


def _hits(h_old: Hashed, h_new: Hashed) -> tuple[np.ndarray, np.ndarray]:
    """Masks over the old and the new rows: those of a key whose rows differ.

    Why the shortcut: a correction leaves the rows where they were, so when both sides'
    keys line up the candidates are the keys of the rows that differ in place (one
    vector compare instead of grouping 1.6 M rows twice); they are then compared as
    multisets like any other key, so a reordering within a key is still no change."""
    sub_old, sub_new = h_old, h_new
    if len(h_old.keys) == len(h_new.keys) and np.array_equal(h_old.keys, h_new.keys):
        maybe = np.unique(h_old.keys[h_old.rows != h_new.rows])
        sub_old, sub_new = (
            Hashed(h.rows[m], h.keys[m]) for h in (h_old, h_new) for m in [np.isin(h.keys, maybe)]
        )
    sigs = [_signatures(h) for h in (sub_old, sub_new)]
    both = sigs[0].to_frame("old").join(sigs[1].to_frame("new"), how="outer")
    touched = both.index[~(both["old"] == both["new"]).fillna(False).to_numpy(dtype=bool)]
    return np.isin(h_old.keys, touched), np.isin(h_new.keys, touched)


def unchanged_delta(table: str, frame: pd.DataFrame) -> Delta:
    """The delta of a table whose rows are the same on both sides: nothing touched."""
    return Delta(keys=frame[ROW_KEYS[table]].iloc[:0], rows=frame.iloc[:0])


def _signatures(hashed: Hashed) -> pd.Series:
    """Per key hash: the sum of its rows' hashes (mod 2**64) plus their count."""
    keyed = pd.DataFrame({"key": hashed.keys, "row": hashed.rows})
    grouped = keyed.groupby("key", sort=False)["row"]
    return grouped.sum().astype("uint64") + grouped.size().astype("uint64")


def _old_rows(
    table: str, raw: pd.DataFrame, hit: np.ndarray, day: date, catalogue: Catalogue
) -> pd.DataFrame | None:
    """The load frame rows ``hit`` marks (a mask over the whole load frame) typed from the
    day's frame ``raw`` alone; ``None`` when ``raw`` does not have that many rows."""
    raw = raw.reset_index(drop=True)
    if table == "report" and "disposition" in raw.columns:  # as load_frame keeps them
        kept = (raw["disposition"].fillna("candidate") == "candidate").to_numpy()
        positions = np.flatnonzero(kept)
    else:
        positions = np.arange(len(raw))
    if len(positions) != len(hit):
        return None
    spec = report_spec(catalogue) if table == "report" else SPECS[table]
    return load_frame(table, raw.iloc[positions[hit]], day, spec)


def _from_kept(
    day: date,
    old: DayTables,
    kept: Mapping[str, Hashed],
    new_loads: Mapping[str, pd.DataFrame],
    hashed_new: Mapping[str, Hashed],
    catalogue: Catalogue,
) -> tuple[dict[str, pd.DataFrame], dict[str, Delta], str] | None:
    """The old side from the hashes its publish kept: only the touched old rows are typed
    (and their hashes checked against the kept ones); the touched old rows per table,
    the deltas and the old day's digest, or ``None`` when the kept hashes do not fit."""
    sources = day_sources(old, None)
    parts: dict[str, pd.DataFrame] = {"org_unit": new_loads["org_unit"].iloc[:0]}
    deltas = {"org_unit": unchanged_delta("org_unit", new_loads["org_unit"])}
    for t in TABLES:
        if t == "org_unit":
            continue
        if t not in kept:
            return None
        old_hit, new_hit = _hits(kept[t], hashed_new[t])
        part = _old_rows(t, sources[t], old_hit, day, catalogue)
        if part is None or list(part.columns) != list(new_loads[t].columns):
            return None
        rows = pd.util.hash_pandas_object(part, index=False).to_numpy()
        if not np.array_equal(rows, kept[t].rows[old_hit]):
            return None  # the hand-over's frames are not what was hashed
        parts[t] = part
        deltas[t] = Delta(
            keys=part[ROW_KEYS[t]].drop_duplicates().reset_index(drop=True),
            rows=new_loads[t].loc[new_hit].reset_index(drop=True),
        )
    # org_unit comes from the one registry on both sides (never a delta)
    columns = {t: list(frame.columns) for t, frame in new_loads.items()}
    rows = {t: kept[t].rows for t in TABLES if t != "org_unit"}
    rows["org_unit"] = hashed_new["org_unit"].rows
    return parts, deltas, versions.hashes_digest(columns, rows)


def publish_changed(
    url: str,
    day: date,
    old: DayTables,
    new: DayTables,
    registry: Registry,
    catalogue: Catalogue,
    *,
    provenance: Provenance,
    kept: Mapping[str, Hashed] | None = None,
    retries: int | None = None,
    backoff: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[PublishOutcome, dict[str, int], str] | None:
    """Publish ``new`` over ``old`` (what the warehouse holds for ``day``) writing only the
    changed rows; the outcome, the rows written per table and where the old side came from
    (``kept hashes`` or ``typed old day``), or ``None`` (nothing written)
    when the warehouse does not hold ``old``. Lost connections are retried as
    :func:`publish_tables` retries them (``HUIZONG_PUBLISH_RETRIES`` / ``_BACKOFF``).

    ``kept``: the old day's hashes its publish kept (``PublishOutcome.hashes``); without
    them, or when they do not fit ``old``, the old day is typed and hashed in full."""
    new_loads = day_frames(day, new, registry, catalogue)
    hashed_new = {
        t: Hashed(pd.util.hash_pandas_object(f, index=False).to_numpy(), np.empty(0, "uint64"))
        if t == "org_unit"  # rows only: the digest needs them, no delta does
        else Hashed.of(t, f)
        for t, f in new_loads.items()
    }
    got = None if kept is None else _from_kept(day, old, kept, new_loads, hashed_new, catalogue)
    side = "kept hashes"
    if got is not None:
        old_loads, deltas, base = got
    else:
        side = "typed old day"
        # both days' org_unit rows come from the one registry: built and hashed once, and
        # never a change (665 k of a national day's 3.25 M rows)
        old_loads = day_frames(day, old, registry, catalogue, org_unit=new_loads["org_unit"])
        hashed_old = {
            t: hashed_new[t] if t == "org_unit" else Hashed.of(t, old_loads[t]) for t in TABLES
        }
        deltas = {
            t: unchanged_delta(t, old_loads[t])
            if t == "org_unit"
            else table_delta(t, old_loads[t], new_loads[t], (hashed_old[t], hashed_new[t]))
            for t in TABLES
        }
        base = versions.tables_digest(old_loads, {t: h.rows for t, h in hashed_old.items()})
    if any(
        d.keys.isna().any().any() or d.rows[ROW_KEYS[t]].isna().any().any()
        for t, d in deltas.items()
    ):
        return None
    digest = versions.tables_digest(new_loads, {t: h.rows for t, h in hashed_new.items()})
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
            return PublishOutcome({}, plan.version, True, None, hashed_new), {}, side
        rows = {t: len(frame) for t, frame in new_loads.items()}
        written = {t: len(d.rows) for t, d in deltas.items()}
        restated = plan.record.get("restated")
        return PublishOutcome(rows, plan.version, False, restated, hashed_new), written, side
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
        """The rows of ``frame`` whose key is touched, in ``frame``'s order. Only rows whose
        every key part is among the touched keys' parts are merged: a national report
        (1.9 M rows) merged whole on its string keys cost seconds for a few touched keys."""
        d = deltas[table]
        key = ROW_KEYS[table]
        hit = pd.concat([d.keys, d.rows[key]]).drop_duplicates()
        if not len(hit):
            return frame.iloc[:0]
        maybe = np.ones(len(frame), dtype=bool)
        for col in key:
            maybe &= frame[col].isin(hit[col].unique()).to_numpy(dtype=bool)
        return frame[maybe].merge(hit, on=key, how="inner")

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
