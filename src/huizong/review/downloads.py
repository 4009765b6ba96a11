"""The agencies' downloads (汇总下载): which days, weeks, 旬 and months a unit was
published for (and when, by which run), the units below it, the file for one
unit+period+format (generated on first request, cached under ``$HUIZONG_HOME/out/``), and
the RFC 5987 ``Content-Disposition`` that carries its Chinese name.

A request names a unit code, a period label and a format from :data:`FORMATS` — never a
path: the cache path is built here from those three, a digest of the published rows and
versions, and the version the 更正说明 sheet counts from, so a re-published day gets a new
file.

Every file served is recorded per user in ``download_log`` (issue 9): the version of each
day it was built from. The page then says when a newer version exists, and the next
workbook of a day lists in 更正说明 exactly the changes since the version last downloaded.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from sqlalchemy.engine import Engine

from huizong.catalogue import Catalogue
from huizong.display import local_time
from huizong.periods import PERIOD_NAMES_ZH, PERIOD_TYPES, Period, parse_period
from huizong.registry import Registry
from huizong.review import store
from huizong.settings import Settings

#: format → (media type, what the file is called in Chinese)
FORMATS: dict[str, tuple[str, str]] = {
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "汇总表",
    ),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "情况汇报",
    ),
    "txt": ("text/plain; charset=utf-8", "情况汇报"),
}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = _SAFE.sub("_", fallback).strip("_") or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_names(unit_name: str, unit_code: str, period: Period, fmt: str) -> tuple[str, str]:
    """(Chinese name, ASCII fallback) of a download."""
    kind = FORMATS[fmt][1]
    return (
        f"{unit_name}{period.label}{kind}.{fmt}",
        f"{unit_code}_{period.label}_{'workbook' if fmt == 'xlsx' else 'report'}.{fmt}",
    )


@dataclass(frozen=True)
class Publication:
    """When and by which run a period's figures were published; a day's also by which
    version (``publish_version``, issue 9: a re-publish with other figures is a new one)."""

    published_at: pd.Timestamp | None  # None: published before this was recorded
    run: str | None  # the Airflow run id, else what triggered it (manual, …)
    version: int | None = None  # days only: weeks, 旬 and months are recomputed nightly


@dataclass(frozen=True)
class Published:
    """One period a unit can be downloaded for, and its publication."""

    period: Period
    through: str  # the last day the figures include (a period under way: the latest night)
    publication: Publication
    #: day → its current version, for the days of the period published with versions
    days: dict[str, int] = field(default_factory=dict)

    @property
    def kind_zh(self) -> str:
        return PERIOD_NAMES_ZH[self.period.type]

    def published_text(self) -> str:
        """The version and the time in Beijing time (what an agency reads), or 未记录."""
        at = self.publication.published_at
        shown = "未记录 not recorded" if at is None else local_time(at)
        version = self.publication.version
        return shown if version is None else f"第{version}版 v{version} · {shown}"


_TYPE_ORDER = {t: n for n, t in enumerate(PERIOD_TYPES)}
_UNRECORDED = Publication(None, None)


def _times(values: pd.Series) -> list[pd.Timestamp | None]:
    at = pd.to_datetime(values, utc=True, format="mixed")
    return [None if pd.isna(a) else a for a in at]


def publications(engine: Engine) -> dict[tuple[str, str], Publication]:
    """(period type, start) → its publication: a day's latest version from
    ``publish_version``, a week's / 旬's / month's latest night from ``publication``."""
    out: dict[tuple[str, str], Publication] = {}
    periods = store.read_frame(engine, "select_publications", table="publication")
    if len(periods):
        rows = zip(
            periods["period_type"],
            periods["period_start"],
            _times(periods["published_at"]),
            periods["run_id"],
            strict=True,
        )
        out.update({(str(t), str(s)[:10]): Publication(a, str(r)) for t, s, a, r in rows})
    days = store.read_frame(engine, "select_day_versions", table="publish_version")
    if len(days):
        rows = zip(
            days["period"],
            _times(days["published_at"]),
            days["run_id"],
            days["trigger"],
            days["version"],
            strict=True,
        )
        out.update(
            {
                ("day", str(d)[:10]): Publication(
                    a, str(r) if r is not None and not pd.isna(r) else str(t), int(v)
                )
                for d, a, r, t, v in rows
            }
        )
    return out


def unit_periods(engine: Engine, unit_code: str, *, week_start: int = 0) -> list[Published]:
    """Every day and every week / 旬 / month published for ``unit_code``: the latest
    figures first, and for the same last day the day, then its week, 旬 and month."""
    recorded = publications(engine)
    found: list[tuple[Period, str]] = [
        (parse_period(d), d) for d in published_days(engine, unit_code)
    ]
    periods = store.read_frame(
        engine,
        "select_published_periods_unit",
        {"unit_code": unit_code},
        table="period_consolidated",
    )
    rows = zip(periods["period_label"], periods["through"], strict=True) if len(periods) else ()
    for label, through in rows:
        found.append((parse_period(str(label), week_start=week_start), str(through)[:10]))
    out = [
        Published(
            period,
            through,
            recorded.get((period.type, period.start.isoformat()), _UNRECORDED),
            day_versions(recorded, period),
        )
        for period, through in found
    ]
    return sorted(
        out,
        key=lambda p: (p.through, p.period.start, -_TYPE_ORDER[p.period.type]),
        reverse=True,
    )


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str


def child_units(engine: Engine, unit_code: str) -> list[Unit]:
    """The aggregated units right below ``unit_code`` (a county's townships, a city's
    counties), from the registry the night published (``org_unit``)."""
    frame = store.read_frame(
        engine, "select_child_units", {"unit_code": unit_code}, table="org_unit"
    )
    if frame.empty:
        return []
    rows = zip(frame["code"], frame["name"], frame["kind"], strict=True)
    return [Unit(str(c), str(n), str(k)) for c, n, k in rows]


def published_days(engine: Engine, unit_code: str) -> list[str]:
    """The days ``unit_code`` was published, latest first (none before the first publish)."""
    if not all(store.has_table(engine, t) for t in ("consolidated", "completeness", "report")):
        return []  # a warehouse the night never published to
    with engine.connect() as conn:
        rows = conn.execute(store.statement("select_published_days_unit"), {"unit_code": unit_code})
        return [str(r[0])[:10] for r in rows]


def _digest(consolidated: pd.DataFrame, versions: object) -> str:
    """What the published rows and versions are: a re-published day has another."""
    hashed = pd.util.hash_pandas_object(consolidated.astype("str"), index=False)
    digest = hashlib.sha256(hashed.to_numpy().tobytes())
    digest.update(repr(versions).encode())
    return digest.hexdigest()[:16]


# ---- which version each user downloaded ---------------------------------------------------


def day_versions(recorded: dict[tuple[str, str], Publication], period: Period) -> dict[str, int]:
    """Day → its current version, for each published day of ``period`` (a day: itself;
    a week, 旬 or month: its days so far). Days published before versions: absent."""
    out = {}
    for day in period.days:
        found = recorded.get(("day", day.isoformat()))
        if found is not None and found.version is not None:
            out[day.isoformat()] = found.version
    return out


def record_download(
    engine: Engine,
    *,
    username: str,
    unit_code: str,
    period: Period,
    fmt: str,
    versions: dict[str, int],
) -> str:
    """One ``download_log`` entry: a row per day the file was built from, with its
    version (a period none of whose days has a version: one row, version unknown)."""
    download = uuid.uuid4().hex
    at = store.now_utc()
    days = versions or {period.start.isoformat(): None}
    rows = [
        {
            "id": download,
            "username": username,
            "unit_code": unit_code,
            "period_label": period.label,
            "fmt": fmt,
            "day": day,
            "version": version,
            "at": at,
        }
        for day, version in days.items()
    ]
    with engine.begin() as conn:
        conn.execute(store.statement("insert_download"), rows)
    return download


def downloaded_versions(
    engine: Engine, username: str, unit_code: str
) -> dict[tuple[str, str], int]:
    """(period label, day) → the version of that day in the file of ``unit_code`` that
    ``username`` last downloaded (versions only grow: the last is the highest)."""
    frame = store.read_frame(
        engine,
        "select_downloaded_versions",
        {"username": username, "unit_code": unit_code},
        table="download_log",
    )
    if frame.empty:
        return {}
    rows = zip(frame["period_label"], frame["day"], frame["version"], strict=True)
    return {(str(label), store.period_text(day)): int(v) for label, day, v in rows}


@dataclass(frozen=True)
class Newer:
    """A day of a period that has a newer version than the one a user last downloaded."""

    day: str
    version: int  # now
    downloaded: int  # the version of the file last downloaded

    def text(self, with_day: bool) -> str:
        day = f"{self.day} " if with_day else ""
        return (
            f"{day}有新版本 第{self.version}版（您上次下载第{self.downloaded}版） / "
            f"{day}newer version {self.version} (you last downloaded {self.downloaded})"
        )


def newer_versions(
    current: dict[str, int], downloaded: dict[tuple[str, str], int], label: str
) -> list[Newer]:
    """The days of the period ``label`` whose version is now above the one downloaded
    (a period never downloaded: none)."""
    out = []
    for day, version in sorted(current.items()):
        had = downloaded.get((label, day))
        if had is not None and version > had:
            out.append(Newer(day, version, had))
    return out


def since_version(downloaded: dict[tuple[str, str], int], period: Period) -> int:
    """The version a day's 更正说明 counts from: the one the user last downloaded, else
    the first (a week's, 旬's or month's workbook lists its days' versions instead)."""
    if period.type != "day":
        return 1
    return downloaded.get((period.label, period.start.isoformat()), 1)


def build(
    settings: Settings,
    url: str,
    unit_code: str,
    period: Period,
    fmt: str,
    registry: Registry,
    catalogue: Catalogue,
    *,
    since: int = 1,
) -> Path:
    """The cached file of ``unit_code``'s ``period`` in ``fmt``, written if not yet there,
    with the deployment's settings (contacts, cut-off, wording template) as the CLI's;
    ``url``: the warehouse the app reads (its engine's); ``since``: the version the
    workbook's 更正说明 counts from (:func:`since_version`)."""
    from huizong.publish import unit_report

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    tables = unit_report.load_unit_tables(
        url, unit_code, period, registry, catalogue, since_version=since
    )
    folder = settings.home / "out" / "downloads" / unit_code / period.label
    path = folder / f"{_digest(tables.consolidated, tables.versions)}-since{since}.{fmt}"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        return unit_report.write_unit_workbook(path, tables, registry, catalogue, settings=settings)
    context = unit_report.progress_context(
        tables, registry, catalogue, date.today(), settings=settings
    )
    text = unit_report.render_progress_text(context, settings.report_template)
    return unit_report.write_progress_report(path, text, fmt)
