"""The two calls the review app makes to Airflow, behind a small interface.

The page triggers ``huizong_nightly`` for a day and later asks how that run is doing,
always with the steward's own token so Airflow's permissions decide. :class:`HttpAirflow`
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


class AirflowError(RuntimeError):
    """Airflow refused or could not be reached; ``status`` is the HTTP code to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RunState:
    """One DAG run as the page shows it: its id, Airflow's state, and when it ended."""

    run_id: str
    state: str
    end_date: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


class Airflow(Protocol):
    """What the review app needs from Airflow."""

    def trigger(self, day: str, token: str) -> RunState:
        """Start ``huizong_nightly`` for ``day`` as the owner of ``token``."""
        ...

    def run(self, run_id: str, token: str) -> RunState:
        """The current state of one run of ``huizong_nightly``."""
        ...


class HttpAirflow:
    """Airflow's public REST API at ``base_url`` (the API server the plugin runs in)."""

    def __init__(self, base_url: str = DEFAULT_API_URL, *, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, token: str, **kwargs: Any) -> dict[str, Any]:
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


def _state(run: dict[str, Any]) -> RunState:
    return RunState(
        str(run.get("dag_run_id")), str(run.get("state") or "queued"), run.get("end_date")
    )


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
        run = RunState(f"manual__review_{len(self.runs) + 1}", "queued")
        self.runs[run.run_id] = run
        return run

    def run(self, run_id: str, token: str) -> RunState:
        self.calls.append({"call": "run", "run_id": run_id, "token": token})
        if run_id not in self.runs:
            raise AirflowError(404, f"no run {run_id!r}")
        return self.runs[run_id]

    def finish(self, run_id: str, state: str = "success") -> None:
        self.runs[run_id] = RunState(run_id, state, "2026-11-26T03:00:00+00:00")
