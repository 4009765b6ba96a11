"""A real CeleryExecutor deployment, started natively: the demo day across two workers.

PostgreSQL (a fresh database) is Airflow's metadata database and Celery's result backend,
Redis is the broker (a random database number and a queue of this run's own, so parallel
runs never take each other's tasks), then ``airflow api-server``, ``scheduler``,
``dag-processor`` and two ``airflow celery worker`` processes. Each worker has its own
working folder (cwd, ``HUIZONG_HOME``, ``AIRFLOW_HOME`` and logs) and its own host name
for Airflow (``[core] hostname_callable``, as two machines would have); the only things
they share are the hand-over folder (``HUIZONG_HANDOVER_URL``, which also holds the day's
inbox) and the warehouse (another fresh PostgreSQL database).

Checked: the demo day's tasks ran on both workers, the published tables equal the stored
digest of the in-process run, and a worker killed with SIGKILL (all its processes, as a
host that dies, frozen first so the kill lands mid-task) in the middle of a partition of
``ingest_part`` has that partition retried on the other worker, with the same tables
again. ``HUIZONG_REQUIRE_CELERY=1`` (set by ``.ci/run``) turns a
missing Redis or PostgreSQL into a failure instead of a skip. Components' logs are copied
to ``$HUIZONG_TEST_ARTEFACTS/celery-workers/`` when a test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from conftest import fresh_pg_database
from helpers.digest import changed_from_stored
from huizong.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2020, 1, 28)
DAG_ID = "huizong_nightly"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
WORKERS = ("huizong-w1", "huizong-w2")
START_TIMEOUT = 180.0  # api-server healthy and both workers ready
RUN_TIMEOUT = 420.0  # one DAG run of the demo day on two loaded cores
HEARTBEAT_TIMEOUT = 30  # seconds without a task heartbeat before the scheduler fails it

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]


def _absent(message: str) -> None:
    if os.environ.get("HUIZONG_REQUIRE_CELERY") == "1":
        pytest.fail(f"{message} (HUIZONG_REQUIRE_CELERY=1)")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session_pids(leader: int) -> list[int]:
    """Every live process of the session ``leader`` started (the task supervisor puts its
    task in a process group of its own, but never leaves the session)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.getsid(int(entry.name)) == leader:
                    found.append(int(entry.name))
    return found


def _kill_session(leader: int) -> None:
    for pid in _session_pids(leader):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the component's group, then SIGKILL whatever of its session is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    _kill_session(proc.pid)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


@dataclass
class Deployment:
    tmp: Path
    env: dict[str, str]
    metadata_url: str
    warehouse_url: str
    shared: Path
    logs: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    killed: list[subprocess.Popen] = field(default_factory=list)  # by the test, on purpose

    @property
    def airflow(self) -> str:
        return str(Path(sys.executable).with_name("airflow"))

    def tail(self, n: int = 3000) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-n:]}"
            for p in sorted(self.logs.glob("*.log"))
        )

    def cli(self, *args: str, timeout: float = 240) -> str:
        done = subprocess.run(
            [self.airflow, *args],
            env=self.env,
            cwd=self.tmp / "control",
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done.stdout

    def start(self, name: str, args: list[str], **env: str) -> None:
        cwd = self.tmp / name
        cwd.mkdir(exist_ok=True)
        log = (self.logs / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen(
            [self.airflow, *args],
            env={**self.env, **env},
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()  # the child holds its own descriptor

    def wait(self, what: str, check: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            assert not dead, f"{dead} exited\n{self.tail()}"
            assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s\n{self.tail()}"
            time.sleep(1)

    def query(self, sql: str, **params: object) -> list[sa.Row]:
        engine = sa.create_engine(self.metadata_url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return list(conn.execute(sa.text(sql), params))
        finally:
            engine.dispose()

    def trigger(self, run_id: str) -> None:
        self.cli("dags", "trigger", DAG_ID, "--run-id", run_id, "-c", json.dumps({"day": str(DAY)}))

    def run_state(self, run_id: str) -> str | None:
        rows = self.query(
            "SELECT state FROM dag_run WHERE dag_id = :d AND run_id = :r", d=DAG_ID, r=run_id
        )
        return rows[0][0] if rows else None

    def wait_run(self, run_id: str) -> None:
        self.wait(
            f"run {run_id} to end",
            lambda: self.run_state(run_id) in ("success", "failed"),
            RUN_TIMEOUT,
        )
        state = self.run_state(run_id)
        assert state == "success", f"{run_id}: {state}\n{self.tries(run_id)}\n{self.tail()}"

    def tries(self, run_id: str) -> list[tuple[str, int, str, str | None, int | None]]:
        """(task, try, state, hostname, pid) of every try: the history, then the last."""
        sql = (
            "SELECT task_id, try_number, state, hostname, pid FROM {table} "
            "WHERE dag_id = :d AND run_id = :r"
        )
        rows = [
            *self.query(sql.format(table="task_instance_history"), d=DAG_ID, r=run_id),
            *self.query(sql.format(table="task_instance"), d=DAG_ID, r=run_id),
        ]
        return sorted((r[0], r[1], r[2], r[3] or None, r[4]) for r in rows)


@pytest.fixture(scope="module")
def redis_db() -> Iterator[tuple[int, str]]:
    """A random Redis database number and this run's own queue; its keys removed after."""
    import redis

    number, queue = random.randint(1, 15), f"huizong-test-{uuid.uuid4().hex[:10]}"
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        _absent(f"Redis not reachable at {REDIS_HOST}:{REDIS_PORT}: {exc}")
    try:
        yield number, queue
    finally:
        with contextlib.suppress(redis.RedisError):
            keys = [k for k in client.scan_iter(match=f"*{queue}*")]
            if keys:
                client.delete(*keys)
        client.close()


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, redis_db: tuple[int, str], request
) -> Iterator[Deployment]:
    from cryptography.fernet import Fernet

    from huizong.demo import generate_demo_day

    tmp = tmp_path_factory.mktemp("celery")
    shared = tmp / "shared"  # the hand-over: the one folder the workers share
    inbox = shared / "inbox"
    generate_demo_day(DAY, inbox / DAY.isoformat())
    logs = tmp / "logs"
    logs.mkdir()
    number, queue = redis_db
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    failed_before = request.session.testsfailed
    with fresh_pg_database() as metadata_url, fresh_pg_database() as warehouse_url:
        result_backend = metadata_url.replace("postgresql+psycopg://", "db+postgresql+psycopg://")
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(tmp / "control" / "airflow"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{number}",
            "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "helpers.worker_host.hostname",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": base,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the runs triggered here
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "GX_ANALYTICS_ENABLED": "false",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]),
            "HUIZONG_HANDOVER_URL": f"file://{shared}",
            "HUIZONG_INBOX": str(inbox),
            "HUIZONG_WAREHOUSE_URL": warehouse_url,
            "HUIZONG_HOME": str(tmp / "control" / "var"),
            "HUIZONG_TASK_RETRY_DELAY": "1",
            "HUIZONG_AIRFLOW_API_URL": base,
        }
        for name in ("HUIZONG_SOURCES", "HUIZONG_DIVISIONS", "AIRFLOW_CONFIG"):
            env.pop(name, None)
        (tmp / "control").mkdir()
        dep = Deployment(tmp, env, metadata_url, warehouse_url, shared, logs)
        passed = False
        try:
            dep.cli("db", "migrate", timeout=600)
            dep.cli("dags", "reserialize", timeout=300)
            dep.start("api-server", ["api-server", "--port", str(port)])
            dep.start("scheduler", ["scheduler"])
            dep.start("dag-processor", ["dag-processor"])
            for host in WORKERS:
                own = tmp / host
                dep.start(
                    host,
                    [
                        "celery",
                        "worker",
                        "--celery-hostname",
                        f"{host}@{queue}",
                        "--queues",
                        queue,
                        "--concurrency",
                        "1",
                        "--skip-serve-logs",
                        "--without-gossip",
                    ],
                    AIRFLOW_HOME=str(own / "airflow"),
                    HUIZONG_HOME=str(own / "var"),
                    HUIZONG_TEST_WORKER_HOST=host,
                )
            dep.wait("the api-server", lambda: _healthy(base), START_TIMEOUT)
            for host in WORKERS:
                log = logs / f"{host}.log"
                dep.wait(f"{host} ready", lambda log=log: " ready." in log.read_text(), 180)
            yield dep
            passed = request.session.testsfailed == failed_before
        finally:
            for proc in [*reversed(list(dep.procs.values())), *dep.killed]:
                _stop(proc)
            if not passed:  # a failed start or test: keep the logs for a person to read
                _keep_logs(dep)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v2/monitor/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def _keep_logs(dep: Deployment) -> None:
    """Components' stdout and every task log, for a person to read after a failure."""
    target = Path(os.environ.get("HUIZONG_TEST_ARTEFACTS", ROOT / "test-artifacts"))
    target = target / "celery-workers"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(dep.logs, target)
    for folder in [dep.tmp / "control" / "airflow", *(dep.tmp / h / "airflow" for h in WORKERS)]:
        if (folder / "logs").is_dir():
            shutil.copytree(folder / "logs", target / f"{folder.parent.name}-task-logs")


def _hosts(tries: list[tuple[str, int, str, str | None, int | None]]) -> set[str]:
    return {host for _, _, _, host, _ in tries if host}


def test_demo_day_runs_on_both_workers_with_the_in_process_tables(deployment) -> None:
    deployment.trigger("celery-demo")
    deployment.wait_run("celery-demo")
    tries = deployment.tries("celery-demo")
    assert {t[0] for t in tries} >= {
        *("ingest_plan", "ingest_part", "ingest_merge"),
        *("validate", "roll_up", "publish", "workbook"),
    }
    assert all(state == "success" for _, _, state, _, _ in tries), tries
    assert _hosts(tries) == set(WORKERS), f"tasks ran on {_hosts(tries)}: {tries}"
    assert all(pid for *_, pid in tries), tries
    changed = changed_from_stored(deployment.warehouse_url, DAY, load_catalogue())
    assert not changed, f"tables differ from the in-process run: {changed}"
    # every step's output and the workbook are in the hand-over, none on a worker's disk
    run = deployment.shared / "runs" / DAY.isoformat()
    assert (run / "consolidated.parquet").is_file() and (run / "ledger_accounted.parquet").is_file()
    assert len(list((deployment.shared / "store").iterdir())) >= 200
    assert list((deployment.shared / "out" / DAY.isoformat()).glob("huizong_1309_*.xlsx"))
    for host in WORKERS:
        assert not list((deployment.tmp / host / "var").rglob("*.parquet")), host


def _signal_session(leader: int, sig: signal.Signals) -> None:
    """``sig`` to every process of the session; listed twice, so a child forked while the
    first list was signalled is caught too."""
    for _ in range(2):
        for pid in _session_pids(leader):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)


def _catch_running(deployment: Deployment, run_id: str, task_id: str) -> tuple[int, str] | None:
    """Freeze the host running ``task_id`` and return (try, host) if the try was still
    running once all its processes stood still; None if it ended first (the host resumed).
    Frozen, nothing on that host can report the try's end any more: what the database
    says then is what the scheduler will find, so the kill lands in the middle for sure."""

    def running() -> list[tuple[str, int, str, str | None, int | None]]:
        return [
            t
            for t in deployment.tries(run_id)
            if t[0] == task_id and t[2] == "running" and t[3] in deployment.procs
        ]

    deadline = time.monotonic() + RUN_TIMEOUT
    while not (seen := running()):
        assert deployment.run_state(run_id) not in ("success", "failed"), run_id
        assert time.monotonic() < deadline, f"{task_id} not running\n{deployment.tail()}"
        time.sleep(0.05)
    [(_, first_try, _, host, _)] = seen
    _signal_session(deployment.procs[host].pid, signal.SIGSTOP)
    if (task_id, first_try, "running", host) in [t[:4] for t in running()]:
        return first_try, host
    _signal_session(deployment.procs[host].pid, signal.SIGCONT)
    return None


def test_a_worker_killed_mid_task_has_it_retried_on_the_other(deployment) -> None:
    """The host running a partition of the ingest dies: the partition alone is retried on
    the other worker. (It was validate; the vectorised validation ends too soon to be
    caught in the middle, a partition's read of the files takes long enough.) The demo
    day's partition runs for about a second, so the host is frozen before the check that
    the try is still running (see ``_catch_running``); a try that ended in the moment
    between seeing it and freezing it is let finish and the day run again, at most thrice."""
    task_id = "ingest_part"
    for attempt in range(3):
        run_id = f"celery-kill-{attempt}"
        deployment.trigger(run_id)
        if caught := _catch_running(deployment, run_id, task_id):
            break
        deployment.wait_run(run_id)
    else:
        pytest.fail(f"{task_id} ended before its host was frozen, three times")
    first_try, victim = caught
    assert victim in WORKERS
    proc = deployment.procs.pop(victim)
    _kill_session(proc.pid)  # the whole (frozen) host at once: worker, pool, supervisor, task
    deployment.killed.append(proc)
    proc.wait(timeout=30)
    survivor = next(h for h in WORKERS if h != victim)

    deployment.wait_run(run_id)
    part = [t for t in deployment.tries(run_id) if t[0] == task_id]
    assert [(t[1], t[3]) for t in part] == [(first_try, victim), (first_try + 1, survivor)], part
    assert part[0][2] != "success" and part[-1][2] == "success", part
    changed = changed_from_stored(deployment.warehouse_url, DAY, load_catalogue())
    assert not changed, f"tables after the retry differ from the in-process run: {changed}"
