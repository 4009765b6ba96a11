"""Which reporting day a run is for: scheduling rules kept out of the DAG file."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from huizong.settings import TIMEZONE

if TYPE_CHECKING:  # the DAG files import this module at parse time: stdlib only there
    import numpy as np
    import pandas as pd

#: The night's run starts at this local hour (Asia/Shanghai) for the day before; the DAG's
#: schedule is built from it, and arrivals before it still belong to the day before.
NIGHT_HOUR = 2

#: Seconds before a failed task of the nightly DAGs is retried, unless
#: ``HUIZONG_TASK_RETRY_DELAY`` says otherwise (doubling each try).
DEFAULT_RETRY_DELAY = 120.0


def task_defaults(retry_delay: float | None, timeout: timedelta) -> dict[str, object]:
    """``default_args`` of every huizong DAG: owned by huizong,
    two retries ``retry_delay`` seconds apart (default :data:`DEFAULT_RETRY_DELAY`),
    doubling each try, and ``timeout`` per task."""
    return {
        "owner": "huizong",
        "retries": 2,
        "retry_delay": timedelta(seconds=retry_delay or DEFAULT_RETRY_DELAY),
        "retry_exponential_backoff": True,
        "execution_timeout": timeout,
    }


#: The asset whose events say "this day's validated rows are in the hand-over": the
#: nightly run emits one with ``{"day": "YYYY-MM-DD"}`` once the day is validated (by
#: either path), and ``huizong_data_docs`` builds the day's Data Docs from it, so no run
#: of the night, nor a steward's re-run queued behind it, waits for the docs.
VALIDATED_DAY_ASSET = "huizong_validated_day"


def days_to_document(day: str | None, extras: Iterable[Mapping[str, object] | None]) -> list[str]:
    """The days a ``huizong_data_docs`` run builds: the ``day`` param when given (a
    manual rebuild), else each day named by the triggering asset events' extras, once
    each, oldest first (events of several runs can queue up for one docs run). An event
    without a valid day, or a run with neither, is an error: a run that silently built
    nothing would leave the review page saying 数据文档尚未生成 for good."""
    if day:
        return [date.fromisoformat(day).isoformat()]
    days = set()
    for extra in extras:
        named = (extra or {}).get("day")
        if not isinstance(named, str):
            raise ValueError(
                f"资产事件缺少日期 / an event of {VALIDATED_DAY_ASSET} names no day: {extra!r}"
            )
        days.add(date.fromisoformat(named).isoformat())
    if not days:
        raise ValueError(
            "没有要生成数据文档的日期：手动运行请填写参数 day / no day to build Data Docs "
            "for: give the param day when triggering huizong_data_docs by hand"
        )
    return sorted(days)


#: Reporting levels with a deadline, and the default (local time on the reporting day):
#: villages and communities by 18:00 (the seeds' township report's cut-off); townships
#: (their batch of villages) and departments later. The night (02:00 the next day) always
#: runs after the last of them, since a deadline is a time of the reporting day itself.
DEFAULT_DEADLINES = {"village": time(18, 0), "department": time(18, 0), "township": time(20, 0)}


def deadline_level(units: Iterable[str], departments: Iterable[str] = ()) -> str:
    """Whose deadline a submission file is judged by: a department's, a township's batch
    (more than one unit in the file), or a village's. The receipt, the night's timeliness
    and the deadline lists all ask this one function."""
    import pandas as pd

    codes = pd.Series([u for u in units if u], dtype="str")
    if codes.empty:
        return "village"
    return str(file_levels(pd.Series("", index=codes.index, dtype="str"), codes, departments)[0])


def file_levels(files: pd.Series, units: pd.Series, departments: Iterable[str] = ()) -> np.ndarray:
    """Per row, :func:`deadline_level` of its file (``files``: the row's file, ``units``:
    its unit code), in one vectorised pass over a day of rows."""
    import numpy as np

    codes = units.astype("str").fillna("")
    dep = codes.isin(set(departments)) | codes.str.upper().str.contains("D", regex=False)
    given = codes.where(codes != "")
    many = given.groupby(files.to_numpy()).transform("nunique").to_numpy() > 1
    any_dep = dep.groupby(files.to_numpy()).transform("any").to_numpy(dtype=bool)
    return np.where(any_dep, "department", np.where(many, "township", "village"))


def ledger_levels(ledger: pd.DataFrame, departments: Iterable[str] = ()) -> dict[str, str]:
    """file_id → :func:`deadline_level` of the file's units as the ledger lists them (every
    row received, whatever validation made of it): what its receipt judged it by.

    Why one pass: a national day's ledger has 39 k files, and asking
    :func:`deadline_level` once per file took minutes of the roll-up (two pandas
    group-bys per file); here every file's units are exploded and judged together."""
    import pandas as pd

    fids = [str(fid) for fid in ledger["file_id"]]
    lists = ledger["units"].fillna("").astype("str").str.split(",")
    rows = pd.DataFrame({"row": range(len(ledger)), "unit": lists.to_numpy()}).explode("unit")
    rows = rows[rows["unit"].fillna("").astype("str") != ""]
    judged = file_levels(rows["row"], rows["unit"].astype("str"), departments)
    level_of_row = dict(zip(rows["row"].to_numpy().tolist(), judged.tolist(), strict=True))
    return {fid: str(level_of_row.get(i, "village")) for i, fid in enumerate(fids)}


def deadline_at(day: date, level: str, deadlines: Mapping[str, time]) -> datetime:
    """The level's deadline on the reporting day, in local time (Asia/Shanghai)."""
    return datetime.combine(day, deadlines[level], tzinfo=ZoneInfo(TIMEZONE))


def on_time(
    received_at: pd.Series, levels: pd.Series, day: date, deadlines: Mapping[str, time]
) -> np.ndarray:
    """Per row: received (``received_at``; naive times are UTC, text is ISO 8601) by the
    deadline of its level (``levels``, aligned) on the reporting day. Unknown arrival or
    level: late. The night's on-time count, the review page's 及时/迟报 and the receipt
    all judge by this one comparison."""
    import numpy as np
    import pandas as pd

    # instants as UTC nanoseconds, the deadline looked up by level code: a per-row object
    # array of deadline Timestamps parsed back by to_datetime cost 25 s of a national
    # periods step (three periods × 578 k reporters)
    codes, names = pd.factorize(pd.Series(levels).astype("object"))
    by_code = np.array(
        [
            pd.Timestamp(deadline_at(day, str(lv), deadlines)).value if lv in deadlines else -1
            for lv in names
        ]
        + [-1],  # code -1 (no level) reads the last entry: late
        dtype="int64",
    )
    deadline = by_code[codes]
    received = pd.to_datetime(received_at, utc=True, format="ISO8601")
    known = received.notna().to_numpy(dtype=bool)
    instant = received.dt.as_unit("ns").array.asi8
    return known & (deadline >= 0) & (instant <= deadline)


def cutoff_level(unit_level: int) -> str:
    """The level whose deadline closes a unit's workbook: its reporters' (villages report
    into a township, townships' batches into a county or city)."""
    return "village" if unit_level >= 4 else "township"


def reporting_day_for(param: str | None, run_after: datetime | None) -> str:
    """An explicit day wins; otherwise the local day before the run (02:00 → yesterday).

    Airflow 3 gives asset- and API-triggered runs no logical date, so ``run_after`` (always
    set) is the reference.
    """
    if param:
        return date.fromisoformat(str(param)).isoformat()
    if run_after is None:
        raise ValueError("neither a 'day' param nor a run time: cannot tell the reporting day")
    local = run_after.astimezone(ZoneInfo(TIMEZONE))
    return (local.date() - timedelta(days=1)).isoformat()


def chase_day_for(param: str | None, run_after: datetime | None) -> str:
    """The deadline watch runs early on the reporting day itself: an explicit day wins,
    else the local date of the run."""
    if param:
        return date.fromisoformat(str(param)).isoformat()
    if run_after is None:
        raise ValueError("neither a 'day' param nor a run time: cannot tell the reporting day")
    return run_after.astimezone(ZoneInfo(TIMEZONE)).date().isoformat()


#: Airflow run types → what a publish records as its trigger (``publish_version.trigger``).
_RUN_TYPE_TRIGGERS = {"scheduled": "nightly", "backfill": "backfill"}


def publish_trigger(param: str | None, run_type: str | None) -> str:
    """An explicit ``trigger`` param wins (the review page's re-run says ``correction``);
    otherwise a scheduled run is ``nightly``, a backfill ``backfill``, any other ``manual``."""
    if param:
        return str(param)
    return _RUN_TYPE_TRIGGERS.get(str(run_type or "").lower().rsplit(".", 1)[-1], "manual")
