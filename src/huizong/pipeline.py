"""The nightly roll-up as five steps: ingest → validate → roll up → publish → workbook.

Each step reads the previous step's files from the hand-over (:mod:`huizong.handover`:
a folder or an object store every worker reaches) and writes its own, so
that the Airflow DAG, ``huizong run`` and the tests call exactly the same functions and a
retried step simply redoes its own work. Each returns a small JSON-able summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from huizong import frames, handover, warehouse
from huizong.catalogue import Catalogue, load_catalogue
from huizong.registry import registry_for, save_registry
from huizong.settings import Settings

if TYPE_CHECKING:
    from huizong.publish.warehouse import DayTables
    from huizong.registry import Registry
    from huizong.rollup import RollupResult


def _read(settings: Settings, day: date, name: str) -> pd.DataFrame:
    return handover.read_frame(settings, day, name)


def _write(settings: Settings, day: date, name: str, frame: pd.DataFrame) -> str:
    """Atomically, through the hand-over every worker reaches (``huizong.handover``).

    The hashes the last publish kept no longer describe the run files once one changes:
    they go first."""
    handover.delete_frame(settings, day, PUBLISHED_HASHES)
    return handover.write_frame(settings, day, name, frame)


#: The last publish's row and key hashes of each table but ``org_unit`` (columns
#: ``table``, ``row``, ``key``), beside the run files it was made from: the next
#: correction's fast path takes the old day's side of its diff and digest from them
#: instead of typing and hashing the whole old day again. Absent (a day published by
#: older code, or a run file written since): the fast path hashes the old day itself.
PUBLISHED_HASHES = "published_hashes.parquet"


def _keep_hashes(settings: Settings, day: date, hashes: Any) -> None:
    """Keep a publish's hashes (``PublishOutcome.hashes``) beside its run files."""
    import numpy as np

    tables = [t for t in hashes if t != "org_unit"]
    counts = [len(hashes[t].rows) for t in tables]
    frame = pd.DataFrame(
        {
            # from the codes: categorising 2.6 M repeated names (a nation) took 1.6 s
            "table": pd.Categorical.from_codes(
                np.repeat(np.arange(len(tables), dtype=np.int8), counts), categories=tables
            ),
            "row": np.concatenate([hashes[t].rows for t in tables]).astype("uint64"),
            "key": np.concatenate([hashes[t].keys for t in tables]).astype("uint64"),
        }
    )
    handover.write_frame(settings, day, PUBLISHED_HASHES, frame)


def keep_published_hashes(day: date, settings: Settings) -> bool:
    """Make the kept hashes of a day published by older code (which kept none), from its
    run files, only when they are what the warehouse holds (same ``tables_digest`` as the
    day's latest version); whether they were kept. Why: its next correction's fast path
    then need not type and hash the old day."""
    from huizong.publish.versions import tables_digest
    from huizong.publish.warehouse import Hashed, day_frames, read_versions

    try:
        handover.read_frame(settings, day, PUBLISHED_HASHES)
        return True
    except FileNotFoundError:
        pass
    registry = registry_for(settings)
    loads = day_frames(day, day_tables(day, settings), registry, load_catalogue(settings.form))
    hashes = {t: Hashed.of(t, frame) for t, frame in loads.items()}
    digest = tables_digest(loads, {t: h.rows for t, h in hashes.items()})
    published = read_versions(settings.warehouse, day)
    if published.empty or published["tables_digest"].iloc[-1] != digest:
        return False
    _keep_hashes(settings, day, hashes)
    return True


def _kept_hashes(settings: Settings, day: date) -> dict[str, Any] | None:
    """The hashes the day's last publish kept, per table; ``None`` when there are none."""
    from huizong.publish.warehouse import TABLES, Hashed

    try:
        frame = handover.read_frame(settings, day, PUBLISHED_HASHES)
    except FileNotFoundError:
        return None
    codes = frame["table"].cat.codes.to_numpy()
    rows, keys = frame["row"].to_numpy(), frame["key"].to_numpy()
    out = {}
    for i, table in enumerate(frame["table"].cat.categories):
        hit = codes == i
        out[str(table)] = Hashed(rows[hit], keys[hit])
    if set(out) != set(TABLES) - {"org_unit"}:
        return None
    return out


@dataclass(frozen=True)
class EarlierVerdict:
    """The day's RECEIVED and validation outputs of the run a correction follows."""

    received: pd.DataFrame
    accepted: pd.DataFrame
    quarantine: pd.DataFrame
    warnings: pd.DataFrame  # WARNINGS: validation's and the quality warnings
    totals: pd.DataFrame | None = None  # TOTALS (None: every total row counts as new)


class EmptyInbox(ValueError):
    """The day's inbox folder is missing or holds no file: refused unless an empty day
    is asked for (a deadline passed with nobody reporting is real, a typo in a path is
    not). The message is for the operator, in Chinese and English."""


def check_inbox(day: date, inbox: Path, allow_empty: bool = False) -> None:
    """Raise :class:`EmptyInbox` when ``inbox`` is missing or has no file, unless allowed."""
    if allow_empty:
        return
    hint_zh = (
        "请检查路径（--inbox 或 HUIZONG_INBOX）；如确实无人上报，用 --allow-empty 发布空的一天"
    )
    hint_en = (
        "check the path (--inbox or HUIZONG_INBOX); if nobody reported, publish an empty "
        "day with --allow-empty (DAG param allow_empty)"
    )
    if not inbox.is_dir():
        raise EmptyInbox(
            f"{day} 的收件箱 {inbox} 不存在，未发布。{hint_zh} | "
            f"the inbox {inbox} for {day} does not exist; nothing published: {hint_en}"
        )
    if not any(path.is_file() or path.is_symlink() for path in inbox.rglob("*")):
        raise EmptyInbox(
            f"{day} 的收件箱 {inbox} 中没有任何文件，未发布。{hint_zh} | "
            f"the inbox {inbox} for {day} holds no files; nothing published: {hint_en}"
        )


INGEST_PLAN = "ingest_plan.parquet"  # the day's files, stored and timed, cut into partitions


def _part(part: int, kind: str) -> str:
    return f"ingest_part_{part}_{kind}.parquet"


def ingest_day(
    day: date, settings: Settings, inbox: Path | None = None, allow_empty: bool = False
) -> dict[str, Any]:
    """Ingest in one process: the plan, every partition's read, the merge — the same
    three steps the nightly DAG runs as tasks (the reads mapped over the partitions)."""
    planned = ingest_plan_day(day, settings, inbox, allow_empty=allow_empty)
    for part in planned["parts"]:
        ingest_part_day(day, settings, part)
    return ingest_merge_day(day, settings)


def ingest_plan_day(
    day: date, settings: Settings, inbox: Path | None = None, allow_empty: bool = False
) -> dict[str, Any]:
    """Store, time and de-duplicate every file of the inbox; cut the files to read into
    partitions of ``HUIZONG_INGEST_PART_FILES`` (returned: the DAG maps over them).

    The first step of the full path (``run_day``'s and the DAG's): the day's inbox listing
    is taken here, before any file is read (:func:`_take_listing`)."""
    from huizong.ingest.inbox import plan_inbox
    from huizong.ingest.partitions import part_ids, plan_frame

    own = inbox is None
    inbox = inbox or settings.inbox_for(day)
    check_inbox(day, inbox, allow_empty)
    _take_listing(day, settings, inbox if own else None)
    entries = plan_inbox(inbox, settings) if inbox.is_dir() else []
    plan = plan_frame(entries, settings.ingest_part_files)
    _write(settings, day, INGEST_PLAN, plan)
    return {"day": day.isoformat(), "files": len(plan), "parts": part_ids(plan)}


def ingest_part_day(day: date, settings: Settings, part: int) -> dict[str, Any]:
    """Read one partition's files (on any worker: stored copies come through the
    hand-over); a retry reads the same files again and writes the same outputs."""
    from huizong.ingest.inbox import read_entries
    from huizong.ingest.partitions import PART, entries_of, read_outcome

    plan = _read(settings, day, INGEST_PLAN)
    entries = entries_of(plan[plan[PART] == part])
    received, totals = read_entries(entries, settings, load_catalogue(settings.form))
    _write(settings, day, _part(part, "received"), received)
    _write(settings, day, _part(part, "totals"), totals)
    _write(settings, day, _part(part, "outcome"), read_outcome(entries))
    return {"day": day.isoformat(), "part": part, "files": len(entries), "rows": len(received)}


def ingest_merge_day(day: date, settings: Settings) -> dict[str, Any]:
    """The partitions back in visiting order, later files superseding earlier ones, and
    the ledger: RECEIVED, TOTALS and LEDGER exactly as one read of the inbox gives them;
    then the files for earlier days go to the days they report (:func:`_route_late`),
    before RECEIVED and LEDGER are written once."""
    from huizong.ingest.inbox import settle
    from huizong.ingest.partitions import apply_outcomes, entries_of, part_ids

    catalogue = load_catalogue(settings.form)
    plan = _read(settings, day, INGEST_PLAN)
    entries, parts = entries_of(plan), part_ids(plan)
    received = pd.concat([_read(settings, day, _part(p, "received")) for p in parts])
    totals = pd.concat([_read(settings, day, _part(p, "totals")) for p in parts])
    apply_outcomes(entries, [_read(settings, day, _part(p, "outcome")) for p in parts])
    received, ledger = settle(entries, received.reset_index(drop=True), day, catalogue)
    received, ledger, late = _route_late(day, settings, received, ledger)
    _write(settings, day, frames.RECEIVED, received)
    _write(settings, day, frames.TOTALS, totals.reset_index(drop=True))
    _write(settings, day, frames.LEDGER, ledger)
    return {
        "day": day.isoformat(),
        "files": len(ledger),
        "parts": len(parts),
        "rows_received": int(ledger["rows_received"].sum()) if len(ledger) else 0,
        "late": late,
    }


LATE_ROUTES = "late_routes.json"  # in the run directory: the earlier days this day fed


def _route_late(
    day: date, settings: Settings, received: pd.DataFrame, ledger: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Move files for earlier days (within the late window) to the days they report:
    (RECEIVED, LEDGER, summary). Their rows are accounted here as superseded
    (“迟报，已转入该日汇总”), and :func:`republish_late_days` re-publishes those days."""
    from huizong.ingest.late import deliver, late_routes, mark_routed

    routes = late_routes(received, ledger, day, settings.late_window_days)
    for route in routes:
        stored = handover.fetch_stored(settings, route.file_id)
        if stored is None:  # ingest keeps every file it read: a missing one is a fault
            raise FileNotFoundError(f"received file {route.file_id} is not in the store")
        deliver(route, stored, settings.inbox_for(route.day), settings.inbox_for(day))
    received, ledger = mark_routed(received, ledger, routes)
    days = sorted({r.day.isoformat() for r in routes})
    handover.write_json(settings, day, LATE_ROUTES, days)
    return received, ledger, {"day": day.isoformat(), "late_files": len(routes), "late_days": days}


def republish_late_days(day: date, settings: Settings) -> dict[str, Any]:
    """Re-run each earlier day that received late files tonight, oldest first; each is a
    new version only where its tables changed (the other days are not touched)."""
    from huizong import handover

    try:
        days = handover.read_json(settings, day, LATE_ROUTES)
    except FileNotFoundError:  # the day ran before late routing existed
        days = []
    out = {}
    for earlier in days:
        summary = run_day(date.fromisoformat(earlier), settings, trigger="late")
        out[earlier] = summary["publish"]["version"]
    return {"day": day.isoformat(), "republished": out}


def validate_day(
    day: date, settings: Settings, earlier: EarlierVerdict | None = None
) -> dict[str, Any]:
    """Validate, honour the stewards' waivers and kept rows, then add the quality warnings.

    Quality warnings (outliers against the unit's own recent days, falling cumulative
    counts, township totals vs villages, departments vs geography) never quarantine.
    The earlier days and the waivers are read here, from the warehouse, so validation
    and the quality checks stay pure functions of frames.

    ``earlier`` (the correction's fast path): the day's previous RECEIVED and verdict;
    only the rows that changed since are validated again (:mod:`huizong.validate.partial`),
    and the quality warnings computed again only in the changed units' cities
    (:mod:`huizong.quality.partial`), the same way.
    """
    verdict = _validate(
        day,
        settings,
        _read(settings, day, frames.RECEIVED),
        _read(settings, day, frames.LEDGER),
        _read(settings, day, frames.TOTALS),
        registry_for(settings),
        earlier,
    )
    for name, frame in verdict.frames.items():
        _write(settings, day, name, frame)
    return verdict.summary


def _changed_units(
    received: pd.DataFrame,
    touched: Any,
    totals: pd.DataFrame,
    earlier: pd.DataFrame | None,
) -> set[str]:
    """The units a correction changed: those of the re-validated rows, and the townships
    of total rows (合计) that were not there before (a file may hold only a total row)."""
    units = set(received.loc[touched, "unit_code"].dropna().astype("str"))
    if len(totals):
        new = totals
        if earlier is not None and len(earlier):
            seen = pd.MultiIndex.from_frame(earlier.reindex(columns=frames.ROW_KEY).astype("str"))
            key = pd.MultiIndex.from_frame(totals.reindex(columns=frames.ROW_KEY).astype("str"))
            new = totals[~key.isin(seen)]
        units |= set(new["unit_code"].dropna().astype("str"))
    return units


@dataclass(frozen=True)
class _Verdict:
    """Validation's outputs in memory: the hand-over frames by name, and the summary."""

    frames: dict[str, pd.DataFrame]
    summary: dict[str, Any]


def report_history_between(
    settings: Settings, day: date, catalogue: Catalogue, lo: str, hi: str
) -> pd.DataFrame:
    """The quality checks' history (``quality.history_frame``) of the reporters ``lo`` <=
    code <= ``hi``: the published days before ``day``, typed a day at a time as they are
    read, so no more than a day of a slice of reporters is ever held as Python values.
    Codes compare bytewise, as in SQLite and PostgreSQL's C collation (and, for codes of
    digits and capital letters, its usual locales)."""
    from huizong.quality import DEFAULT_DAYS, history_frame, numeric_codes

    days = [day - timedelta(days=back) for back in range(DEFAULT_DAYS, 0, -1)]
    got = warehouse.report_days_between(settings, days, numeric_codes(catalogue), lo, hi)
    typed = [history_frame(rows, catalogue) for rows in got if len(rows)]
    if not typed:  # nothing published yet, or not for these reporters
        return history_frame(pd.DataFrame(), catalogue)
    return pd.concat(typed, ignore_index=True)


def _validate(
    day: date,
    settings: Settings,
    received: pd.DataFrame,
    ledger: pd.DataFrame,
    totals: pd.DataFrame,
    registry: Registry,
    earlier: EarlierVerdict | None,
) -> _Verdict:
    """:func:`validate_day` on frames in memory (the fast path passes them on)."""
    from huizong.quality import (
        DEFAULT_DAYS,
        QUALITY_RULES,
        history_frame,
        numeric_codes,
        quality_in_parts,
    )
    from huizong.quality.partial import requality
    from huizong.validate import ValidationResult, account, validate_received
    from huizong.validate.partial import revalidate, touched_rows
    from huizong.validate.waivers import WAIVED, apply_keeps

    catalogue = load_catalogue(settings.form)
    waivers = warehouse.day_waivers(settings, day)
    # a duplicate a steward resolved: the rows not kept are superseded before validation
    received = apply_keeps(received, waivers)

    def validate(rows: pd.DataFrame) -> ValidationResult:
        return validate_received(rows, day, catalogue, registry, settings, waivers)

    def history_of(units: list[str] | None) -> pd.DataFrame:
        codes = numeric_codes(catalogue)
        got = warehouse.report_history(settings, day, DEFAULT_DAYS, codes, units=units)
        return history_frame(got, catalogue)

    def history_between(lo: str, hi: str) -> pd.DataFrame:
        return report_history_between(settings, day, catalogue, lo, hi)

    revalidated = None
    if earlier is None:
        result = validate(received)
        quality = quality_in_parts(
            result.accepted,
            day,
            catalogue,
            registry,
            history_between=history_between,
            totals=totals,
        )
    else:
        own = earlier.warnings[~earlier.warnings["rule"].str.startswith(QUALITY_RULES)]
        before = apply_keeps(earlier.received, waivers)
        touched = touched_rows(received, before, waivers)
        previous = ValidationResult(earlier.accepted, earlier.quarantine, own)
        result = revalidate(received, previous, touched, validate)
        revalidated = int(touched.sum())
        quality = requality(
            result.accepted,
            day,
            catalogue,
            registry,
            earlier=earlier.warnings,
            changed=_changed_units(received, touched, totals, earlier.totals),
            history_of=history_of,
            totals=totals,
        )
    ledger = account(ledger, received, result)
    warnings = pd.concat([result.warnings, quality], ignore_index=True)
    summary = {
        "day": day.isoformat(),
        "accepted": len(result.accepted),
        "quarantined_rows": int(ledger["rows_quarantined"].sum()) if len(ledger) else 0,
        "warnings": len(warnings),
        "quality_warnings": len(quality),
        "waived": int(result.warnings["rule"].str.startswith(WAIVED).sum()),
        **({} if revalidated is None else {"rows_validated": revalidated}),
    }
    out = {
        frames.ACCEPTED: result.accepted,
        frames.QUARANTINE: result.quarantine,
        frames.WARNINGS: warnings,
        frames.ACCOUNTED_LEDGER: ledger,
    }
    return _Verdict(out, summary)


def rollup_day(day: date, settings: Settings) -> dict[str, Any]:
    registry = registry_for(settings)
    accepted = _read(settings, day, frames.ACCEPTED)
    ledger = _read(settings, day, frames.ACCOUNTED_LEDGER)
    result = _rollup(day, settings, accepted, registry, ledger)
    _write(settings, day, frames.CONSOLIDATED, result.consolidated)
    _write(settings, day, frames.COMPLETENESS, result.completeness)
    _write(settings, day, frames.MISSING, result.missing)
    return _rolled(day, result, registry)


def _rollup(
    day: date,
    settings: Settings,
    accepted: pd.DataFrame,
    registry: Registry,
    ledger: pd.DataFrame,
) -> RollupResult:
    """The roll-up, with each file judged on time by its level's deadline from all the
    rows it brought (the ledger's units), as its receipt was."""
    from huizong.intake.config import deadlines_of
    from huizong.rollup import roll_up
    from huizong.schedule import ledger_levels

    catalogue = load_catalogue(settings.form)
    # every department is a reporter: taken from the units directly, not through
    # ``registry.reporters`` twice (two takes of a nation's 665 k units: seconds)
    units = registry.units
    deps = units.loc[units["kind"] == "department", "code"]
    levels = ledger_levels(ledger, deps) if "units" in ledger.columns else None
    return roll_up(accepted, day, catalogue, registry, settings, deadlines_of(settings), levels)


def _rolled(day: date, result: RollupResult, registry: Registry) -> dict[str, Any]:
    """The roll-up step's summary."""
    root = result.completeness[result.completeness["unit_code"] == registry.root]
    return {
        "day": day.isoformat(),
        "units": int(result.completeness["unit_code"].nunique()),
        "reporting_rate": float(root["reporting_rate"].iloc[0]) if len(root) else None,
    }


def day_tables(day: date, settings: Settings) -> DayTables:
    """The frames one day publishes, read from its run files (also the benchmark's input)."""
    from huizong.publish.warehouse import DayTables

    return DayTables(
        consolidated=_read(settings, day, frames.CONSOLIDATED),
        completeness=_read(settings, day, frames.COMPLETENESS),
        missing=_read(settings, day, frames.MISSING),
        quarantine=_read(settings, day, frames.QUARANTINE),
        warnings=_read(settings, day, frames.WARNINGS),
        ledger=_read(settings, day, frames.ACCOUNTED_LEDGER),
        report=_read(settings, day, frames.ACCEPTED),
    )


def publish_day(
    day: date,
    settings: Settings,
    trigger: str = "manual",
    run_id: str | None = None,
    in_task: bool = False,
) -> dict[str, Any]:
    """Publish the day as a new version (none when its tables did not change); a version
    that changes a signed-off unit is a restatement, and its stewards are told."""
    from huizong.publish.versions import Provenance
    from huizong.publish.warehouse import publish_tables

    registry = registry_for(settings)
    outcome = publish_tables(
        settings.warehouse,
        day,
        day_tables(day, settings),
        registry,
        load_catalogue(settings.form),
        retries=settings.publish_retries,
        backoff=settings.publish_backoff,
        provenance=Provenance(trigger=trigger, run_id=run_id),
    )
    if outcome.hashes is not None:
        _keep_hashes(settings, day, outcome.hashes)
    return _published(day, settings, outcome, in_task)


def _published(day: date, settings: Settings, outcome: Any, in_task: bool) -> dict[str, Any]:
    """The publish step's summary; the stewards of a restated sign-off are told."""
    told: list[str] = []
    if outcome.restated:
        from huizong.review.signoff import notify_restated

        told = notify_restated(day, outcome.version, outcome.restated, settings, in_task=in_task)
    return {
        "day": day.isoformat(),
        "warehouse": _redact(settings.warehouse),
        "rows": outcome.rows,
        "version": outcome.version,
        "unchanged": outcome.unchanged,
        "restated": outcome.restated,
        "restatement_notified": told,
    }


def workbook_day(day: date, settings: Settings) -> dict[str, Any]:
    from huizong.periods import period_of
    from huizong.publish.unit_report import letterhead_for, load_previous
    from huizong.publish.workbook import write_workbook
    from huizong.warehouse import shown_issue_names

    catalogue = load_catalogue(settings.form)
    registry = registry_for(settings)
    out = settings.out_dir(day)
    out.mkdir(parents=True, exist_ok=True)
    path = write_workbook(
        out / f"huizong_{registry.root}_{day.isoformat()}.xlsx",
        day,
        consolidated=_read(settings, day, frames.CONSOLIDATED),
        completeness=_read(settings, day, frames.COMPLETENESS),
        quarantine=shown_issue_names(
            settings.warehouse, _read(settings, day, frames.QUARANTINE), day, day
        ),
        catalogue=catalogue,
        registry=registry,
        letterhead=letterhead_for(registry.root, day, registry, settings),
        previous=load_previous(settings.warehouse, registry.root, period_of(day, "day")),
        missing=_read(settings, day, frames.MISSING),
    )
    return {
        "day": day.isoformat(),
        "workbook": str(path),
        "handover": handover.keep_output(settings, day, Path(path)),
    }


def periods_day(day: date, settings: Settings, run_id: str | None = None) -> dict[str, Any]:
    """Bring the week, 旬 and month containing ``day`` up to date from the published days
    (each recorded in ``publication`` with the time and ``run_id``)."""
    from huizong.periods import consolidate_periods, periods_containing, week_start_of
    from huizong.publish.warehouse import last_published_day, publish_period, read_day_range

    catalogue = load_catalogue(settings.form)
    registry = registry_for(settings)
    out: dict[str, Any] = {"day": day.isoformat()}
    url = settings.warehouse
    periods = periods_containing(day, week_start=week_start_of(settings))
    # a late day re-published must not cut its week back to itself
    throughs = [max(day, last_published_day(url, p.start, p.end) or day) for p in periods]
    # each published day's report rows are read when a period folds them in, one at a
    # time (a national day is 578 k rows; a month of them at once did not fit in memory)
    first, last = min(p.start for p in periods), max(throughs)
    completeness = read_day_range(url, "completeness", first, last)

    reduced = {"unit_code", "unit_name", "received_at", "not_applicable"}
    reduced |= {i.code for i in catalogue.indicators}

    def read_day(iso: str) -> pd.DataFrame:
        day = date.fromisoformat(iso)
        return read_day_range(url, "report", day, day, catalogue=catalogue, columns=reduced)

    wanted = list(zip(periods, throughs, strict=True))
    tables_of = consolidate_periods(wanted, read_day, completeness, catalogue, registry, settings)
    done: dict[str, dict[str, str]] = {}
    for period, through, tables in tables_of:
        publish_period(
            url,
            period.type,
            period.start,
            tables.consolidated,
            tables.completeness,
            catalogue,
            run_id=run_id,
        )
        done[period.type] = {"label": period.label, "through": through.isoformat()}
        del tables  # 2 M consolidated rows at nation: not held while the next is computed
    out.update((p.type, done[p.type]) for p in periods)
    return out


#: In the run directory: the inbox as the last complete run (``huizong run`` or the DAG)
#: read it (file → size, mtime), written after its publish; what lets a correction read
#: only new files.
INBOX_LISTING = "inbox_listing.json"
#: In the run directory: the listing the full path's ingest took, waiting for its publish.
PLANNED_LISTING = "inbox_listing_planned.json"
#: Triggers that re-run a published day after a file was added (the fast path's cases).
CORRECTING = ("correction", "late")


def _take_listing(day: date, settings: Settings, inbox: Path | None) -> None:
    """The full path starts: the day's listing is stale from here on, and the listing of
    ``inbox`` as it is about to be read waits for the publish (:func:`publish_full_day`).
    A file added or touched after this moment is then not in it, so the next correction
    reads it again. ``None``: another folder than the day's own inbox, which a correction
    does not read: no listing."""
    from huizong.ingest.added import inbox_listing

    handover.write_json(settings, day, INBOX_LISTING, None)
    taken = None if inbox is None else inbox_listing(inbox)
    handover.write_json(settings, day, PLANNED_LISTING, taken)


def publish_full_day(
    day: date,
    settings: Settings,
    trigger: str = "manual",
    run_id: str | None = None,
    in_task: bool = False,
) -> dict[str, Any]:
    """The full path's publish (``run_day``'s and the DAG's ``publish`` task): the day as a
    new version, then the listing its ingest took becomes the day's ``INBOX_LISTING``, so
    the next correction or late file reads only what was added since. A listing that no
    longer matches the run files (the day corrected since that ingest) is refused by the
    fast path (:func:`huizong.ingest.added.ingest_added`), which then runs in full."""
    summary = publish_day(day, settings, trigger=trigger, run_id=run_id, in_task=in_task)
    try:
        listing = handover.read_json(settings, day, PLANNED_LISTING)
    except FileNotFoundError:  # ingested before listings were planned: no fast path
        listing = None
    handover.write_json(settings, day, INBOX_LISTING, listing)
    return summary


def run_day(
    day: date,
    settings: Settings,
    inbox: Path | None = None,
    allow_empty: bool = False,
    trigger: str = "manual",
) -> dict[str, Any]:
    """All steps in order, in-process: what ``huizong run`` does without the scheduler.

    A day without files is refused (:class:`EmptyInbox`) before anything is touched,
    unless ``allow_empty``.

    Holds the day's run lock (:mod:`huizong.runlock`) throughout, so a second run of the
    same day waits. Always starts from ingest after clearing the step files a killed or
    older run left behind: every file a step reads was then written earlier in this same
    call, so a re-run after a crash converges to what an undisturbed run gives.

    A ``correction`` or ``late`` re-run of the day's own inbox first tries the fast path
    (:func:`correct_day`): only the added files are read, only changed rows are written.
    """
    from huizong.runlock import day_lock
    from huizong.validate.datadocs import data_docs_day

    check_inbox(day, inbox or settings.inbox_for(day), allow_empty)
    with day_lock(settings, day):
        fast = correct_day(day, settings, trigger) if inbox is None else None
        if fast is not None:
            summary = fast
        else:
            handover.clear_step_files(settings, day)
            ingest = ingest_day(day, settings, inbox, allow_empty)
            summary = {
                "ingest": ingest,
                "late": ingest.pop("late"),
                "validate": validate_day(day, settings),
                "rollup": rollup_day(day, settings),
                "publish": publish_full_day(day, settings, trigger=trigger),
            }
        summary["workbook"] = workbook_day(day, settings)
        summary["periods"] = periods_day(day, settings)
        summary["data_docs"] = data_docs_day(day, settings)  # last: the tables come first
    if trigger != "late":  # a late day's own late files wait for its next night
        summary["republished"] = republish_late_days(day, settings)
    return summary


def correct_day(
    day: date,
    settings: Settings,
    trigger: str,
    run_id: str | None = None,
    in_task: bool = False,
) -> dict[str, Any] | None:
    """The fast path of a correction or late file: ingest → publish reading only the files
    added since the day's last complete run and writing only the rows that changed.

    Only the changed rows are validated again and their cities' quality warnings
    recomputed; the roll-up runs on the whole day. The frames pass from step to step in
    memory and the registry is read once. Returns the steps' summaries, or ``None``
    (nothing changed anywhere) when the full run must be done instead: the trigger is not
    a correction or late file, the day has no complete earlier run in the hand-over
    (``INBOX_LISTING``), that run routed late files away, an earlier file changed or
    went missing, an added file repeats an earlier one's bytes, or (decided at publish)
    the warehouse does not hold that run's tables. The caller holds the day's lock.
    ``run_id`` and ``in_task`` as for :func:`publish_day` (the DAG's ``fast_path`` task).
    """
    from huizong.ingest.added import ingest_added, listing_of, scan_inbox
    from huizong.publish.incremental import publish_changed
    from huizong.publish.versions import Provenance
    from huizong.publish.warehouse import DayTables

    if trigger not in CORRECTING:
        return None
    try:
        listing = handover.read_json(settings, day, INBOX_LISTING)
        routed = handover.read_json(settings, day, LATE_ROUTES)
        before = (
            _read(settings, day, frames.RECEIVED),
            _read(settings, day, frames.LEDGER),
            _read(settings, day, frames.TOTALS),
        )
        old = day_tables(day, settings)
    except FileNotFoundError:
        return None
    kept = _kept_hashes(settings, day)  # read before the run files are touched
    if not listing or routed:
        return None
    inbox = settings.inbox_for(day)
    entries = scan_inbox(inbox)  # once: the listing to keep and the files to read
    now = listing_of(entries)
    got = ingest_added(
        inbox, day, load_catalogue(settings.form), settings, before, listing, entries
    )
    if got is None:
        return None
    handover.write_json(settings, day, INBOX_LISTING, None)  # stale until published
    # the frames go from step to step in memory (each still written to the hand-over, as
    # the night's steps leave them), and the registry is read once; the last run's frames
    # this run rewrites stay in place, and one that did not change is not written again
    # (as run_day: no other step file of the last run stays)
    earlier = {
        frames.RECEIVED: before[0],
        frames.LEDGER: before[1],
        frames.TOTALS: before[2],
        frames.CONSOLIDATED: old.consolidated,
        frames.COMPLETENESS: old.completeness,
        frames.MISSING: old.missing,
        frames.QUARANTINE: old.quarantine,
        frames.WARNINGS: old.warnings,
        frames.ACCOUNTED_LEDGER: old.ledger,
        frames.ACCEPTED: old.report,
    }
    handover.clear_step_files(settings, day, keep=frozenset(earlier))
    written: set[str] = set()

    def write(name: str, frame: pd.DataFrame) -> None:
        written.add(name)
        if name not in earlier or not _same_frame(earlier[name], frame):
            _write(settings, day, name, frame)

    received, ledger, totals = got
    received, ledger, late = _route_late(day, settings, received, ledger)
    write(frames.RECEIVED, received)
    write(frames.TOTALS, totals)
    write(frames.LEDGER, ledger)
    registry = registry_for(settings)
    verdict = _validate(
        day,
        settings,
        received,
        ledger,
        totals,
        registry,
        EarlierVerdict(before[0], old.report, old.quarantine, old.warnings, before[2]),
    )
    for name, frame in verdict.frames.items():
        write(name, frame)
    rolled = _rollup(
        day,
        settings,
        verdict.frames[frames.ACCEPTED],
        registry,
        verdict.frames[frames.ACCOUNTED_LEDGER],
    )
    write(frames.CONSOLIDATED, rolled.consolidated)
    write(frames.COMPLETENESS, rolled.completeness)
    write(frames.MISSING, rolled.missing)
    for name in set(earlier) - written:  # a frame this run does not make: not left over
        handover.delete_frame(settings, day, name)
    summary: dict[str, Any] = {
        "ingest": {
            "day": day.isoformat(),
            "files": len(ledger),
            "rows_received": int(ledger["rows_received"].sum()) if len(ledger) else 0,
            "files_read": len(set(now) - set(listing)),
        },
        "late": late,
        "validate": verdict.summary,
        "rollup": _rolled(day, rolled, registry),
    }
    new = DayTables(
        consolidated=rolled.consolidated,
        completeness=rolled.completeness,
        missing=rolled.missing,
        quarantine=verdict.frames[frames.QUARANTINE],
        warnings=verdict.frames[frames.WARNINGS],
        ledger=verdict.frames[frames.ACCOUNTED_LEDGER],
        report=verdict.frames[frames.ACCEPTED],
    )
    done = publish_changed(
        settings.warehouse,
        day,
        old,
        new,
        registry,
        load_catalogue(settings.form),
        provenance=Provenance(trigger=trigger, run_id=run_id),
        kept=kept,
        retries=settings.publish_retries,
        backoff=settings.publish_backoff,
    )
    if done is None:  # the warehouse moved on since that run: replace the day in full
        summary["publish"] = publish_day(
            day, settings, trigger=trigger, run_id=run_id, in_task=in_task
        )
        summary["publish"]["path"] = "full"
    else:
        if done[0].hashes is not None:
            _keep_hashes(settings, day, done[0].hashes)
        summary["publish"] = _published(day, settings, done[0], in_task=in_task)
        summary["publish"].update(path="changed rows", written=done[1], old_side=done[2])
    handover.write_json(settings, day, INBOX_LISTING, now)
    return summary


def _same_frame(before: pd.DataFrame, after: pd.DataFrame) -> bool:
    """Whether ``after`` would be written as the file ``before`` was read from."""
    return (
        list(before.columns) == list(after.columns)
        and before.dtypes.equals(after.dtypes)
        and before.reset_index(drop=True).equals(after.reset_index(drop=True))
    )


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


__all__ = [
    "Catalogue",
    "EmptyInbox",
    "check_inbox",
    "correct_day",
    "day_tables",
    "ingest_day",
    "periods_day",
    "publish_day",
    "publish_full_day",
    "registry_for",
    "republish_late_days",
    "rollup_day",
    "run_day",
    "save_registry",
    "validate_day",
    "workbook_day",
]
