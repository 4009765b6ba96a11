"""Which reporting day a run is for: scheduling rules kept out of the DAG file."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from huizong.settings import TIMEZONE

#: The night's run starts at this local hour (Asia/Shanghai) for the day before; the DAG's
#: schedule is built from it, and arrivals before it still belong to the day before.
NIGHT_HOUR = 2


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
