"""The two calls the review app makes to Airflow, behind a small interface.

The page triggers ``huizong_nightly`` for a day, later asks how that run is doing and,
while it is queued, which runs are ahead of it (``max_active_runs=1``: one run at a
time, whatever its day), always with the steward's own token so Airflow's permissions
decide. :class:`HttpAirflow`
talks to the public REST API (``/api/v2``); :class:`InMemoryAirflow` is the stand-in tests
hand to ``create_app(airflow=...)``: it records calls and lets a test move a run along.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

DAG_ID = "huizong_nightly"
DEFAULT_API_URL = "http://127.0.0.1:8080"
#: States after which a run does not change any more (Airflow's DagRunState).
FINISHED = frozenset({"success", "failed"})
#: States of a run that holds or waits for the DAG's one active slot.
ACTIVE = ("running", "queued")


class AirflowError(RuntimeError):
    """Airflow refused or could not be reached; ``status`` is the HTTP code to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RunState:
    """One DAG run as the page shows it: its id, Airflow's state, when it ended; and, to
    tell a waiting steward what it waits for, the reporting day, how it was started and
    since when it is in its state (queued or started)."""

    run_id: str
    state: str
    end_date: str | None = None
    day: str | None = None
    run_type: str | None = None
    queued_at: str | None = None
    start_date: str | None = None
    run_after: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def since(self) -> str | None:
        """When it entered its current state: started if running, else queued."""
        return self.start_date if self.state == "running" and self.start_date else self.queued_at


class Airflow(Protocol):
    """What the review app needs from Airflow."""

    def trigger(self, day: str, token: str) -> RunState:
        """Start ``huizong_nightly`` for ``day`` as the owner of ``token``."""
        ...

    def run(self, run_id: str, token: str) -> RunState:
        """The current state of one run of ``huizong_nightly``."""
        ...

    def active(self, token: str) -> list[RunState]:
        """The runs of ``huizong_nightly`` running or queued, oldest first."""
        ...


def ahead_of(run: RunState, active: list[RunState]) -> list[RunState]:
    """The runs a queued ``run`` waits for: every running one, then those queued before it
    (the scheduler starts queued runs in the order they were due)."""
    if run.state != "queued":
        return []
    others = [r for r in active if r.run_id != run.run_id]
    running = [r for r in others if r.state == "running"]
    before = [
        r
        for r in others
        if r.state == "queued" and (r.run_after or "") <= (run.run_after or "\uffff")
    ]
    return running + before


class HttpAirflow:
    """Airflow's public REST API at ``base_url`` (the API server the plugin runs in)."""

    def __init__(self, base_url: str = DEFAULT_API_URL, *, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, token: str, **kwargs: Any) -> dict[str, Any]:
        """One request to the DAG's runs (``path`` after ``…/dagRuns``); its JSON."""
        try:
            resp = httpx.request(
                method,
                f"{self.base_url}/api/v2/dags/{DAG_ID}/dagRuns{path}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.timeout,
                **kwargs,
            )
        except httpx.HTTPError as exc:
            raise AirflowError(502, f"Airflow API unreachable: {exc}") from None
        if resp.status_code >= 400:
            raise AirflowError(resp.status_code, f"Airflow refused: {resp.text[:500]}")
        return resp.json()

    def trigger(self, day: str, token: str) -> RunState:
        body = {"logical_date": None, "conf": {"day": day, "trigger": "correction"}}
        return _state(self._call("POST", "", token, json=body))

    def run(self, run_id: str, token: str) -> RunState:
        return _state(self._call("GET", f"/{run_id}", token))

    def active(self, token: str) -> list[RunState]:
        params = [("state", s) for s in ACTIVE] + [("order_by", "run_after"), ("limit", "50")]
        found = self._call("GET", "", token, params=params)
        return [_state(r) for r in found.get("dag_runs") or []]


def _state(run: dict[str, Any]) -> RunState:
    return RunState(
        str(run.get("dag_run_id")),
        str(run.get("state") or "queued"),
        run.get("end_date"),
        day=_day_of(run),
        run_type=run.get("run_type"),
        queued_at=run.get("queued_at"),
        start_date=run.get("start_date"),
        run_after=run.get("run_after"),
    )


def _day_of(run: dict[str, Any]) -> str | None:
    """The reporting day a run works on: its ``day`` param, else the day before it was due
    (as the DAG's ``reporting_day`` task decides)."""
    from datetime import datetime

    from huizong.schedule import reporting_day_for

    given = (run.get("conf") or {}).get("day")
    after = run.get("run_after")
    try:
        due = datetime.fromisoformat(str(after).replace("Z", "+00:00")) if after else None
        return reporting_day_for(given, due)
    except ValueError:
        return None


@dataclass
class InMemoryAirflow:
    """A fake Airflow for tests: runs are ``queued`` until :meth:`finish` says otherwise."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    runs: dict[str, RunState] = field(default_factory=dict)
    refuse: AirflowError | None = None

    def trigger(self, day: str, token: str) -> RunState:
        self.calls.append({"call": "trigger", "day": day, "token": token})
        if self.refuse:
            raise self.refuse
        at = f"2026-11-26T03:00:{len(self.runs):02d}+00:00"
        run = RunState(
            f"manual__review_{len(self.runs) + 1}",
            "queued",
            day=day,
            run_type="manual",
            queued_at=at,
            run_after=at,
        )
        self.runs[run.run_id] = run
        return run

    def active(self, token: str) -> list[RunState]:
        self.calls.append({"call": "active", "token": token})
        going = [r for r in self.runs.values() if r.state in ACTIVE]
        return sorted(going, key=lambda r: r.run_after or "")

    def start_scheduled(self, day: str, since: str) -> RunState:
        """A scheduled run of ``day`` running since ``since`` (the one a re-run waits for)."""
        run = RunState(
            f"scheduled__{day}",
            "running",
            day=day,
            run_type="scheduled",
            queued_at=since,
            start_date=since,
            run_after=since,
        )
        self.runs[run.run_id] = run
        return run

    def run(self, run_id: str, token: str) -> RunState:
        self.calls.append({"call": "run", "run_id": run_id, "token": token})
        if run_id not in self.runs:
            raise AirflowError(404, f"no run {run_id!r}")
        return self.runs[run_id]

    def finish(self, run_id: str, state: str = "success") -> None:
        old = self.runs.get(run_id, RunState(run_id, state))
        self.runs[run_id] = RunState(
            run_id,
            state,
            "2026-11-26T03:00:00+00:00",
            day=old.day,
            run_type=old.run_type,
            queued_at=old.queued_at,
            start_date=old.start_date,
            run_after=old.run_after,
        )
