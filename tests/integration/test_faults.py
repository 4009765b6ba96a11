"""Faults the pipeline must survive, on the demo day against real PostgreSQL.

* the warehouse connection dies in the middle of publishing (``pg_terminate_backend``):
  readers keep seeing the previous day, the publish is retried and then fully visible;
* the worker is SIGKILLed in the middle of a run: the re-run converges to the tables of an
  undisturbed run;
* two runs of the same day at once: serialised by the run lock, no duplicated rows;
* every step re-run after it succeeded: run files, store, ledger and tables unchanged.

How a publish is caught mid-transaction without a test hook in the product: the test
holds ``LOCK TABLE org_unit IN ACCESS EXCLUSIVE MODE``. A publish deletes and reloads
every per-day table first and replaces ``org_unit`` last, so it blocks there with the
whole new day loaded but not committed: the latest moment a fault can strike.

One undisturbed run of the demo day (module-scoped) is the reference for every test.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from huizong import frames, pipeline
from huizong.catalogue import load_catalogue
from huizong.demo import generate_demo_day
from huizong.publish.warehouse import (
    PER_DAY_TABLES,
    PUBLISH_APPLICATION,
    TABLES,
    DayTables,
    ensure_schema,
    publish_tables,
    read_table,
)
from huizong.registry import load_registry
from huizong.settings import Settings

pytestmark = pytest.mark.postgres

DAY = date(2020, 1, 28)
CAT = load_catalogue()
WAIT = 90.0  # upper bound of every wait (a demo run takes about 10 s)
#: ``huizong run`` minus the CLI's error handler, so a failure shows its traceback.
RUN_CODE = (
    "import sys; from datetime import date; from huizong.pipeline import run_day; "
    "from huizong.settings import Settings; from pathlib import Path; "
    "run_day(date.fromisoformat(sys.argv[1]), Settings.from_env(), Path(sys.argv[2]))"
)
#: A text column per table that the "v2" publication marks on every row.
MARKED = {t: "file_name" if t == "submission_ledger" else "unit_name" for t in PER_DAY_TABLES}
MARK = "·v2"


# ---- databases, runs and snapshots ----------------------------------------------------


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("inbox") / DAY.isoformat()
    generate_demo_day(DAY, folder)
    return folder


@dataclasses.dataclass
class Reference:
    settings: Settings
    tables: dict[str, pd.DataFrame]
    run_files: dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def reference(
    tmp_path_factory: pytest.TempPathFactory, module_pg_url: str, inbox: Path
) -> Reference:
    """One undisturbed run of the demo day: the tables every fault must converge to."""
    settings = Settings(home=tmp_path_factory.mktemp("reference"), warehouse_url=module_pg_url)
    pipeline.run_day(DAY, settings, inbox)
    ref = Reference(settings, tables_of(module_pg_url), run_files(settings))
    assert len(ref.tables["report"]) > 5000
    assert all(len(ref.tables[t]) > 0 for t in TABLES)
    return ref


def tables_of(url: str) -> dict[str, pd.DataFrame]:
    """Every published table of the day, rows sorted on all columns."""
    out = {}
    for table in TABLES:
        frame = read_table(url, table, None if table == "org_unit" else DAY, catalogue=CAT)
        cols = list(frame.columns)
        out[table] = frame.sort_values(cols, na_position="first").reset_index(drop=True)
    return out


def assert_same_tables(url: str, reference: Reference) -> None:
    got = tables_of(url)
    for table in TABLES:
        frame = got[table]
        assert not frame.duplicated().any(), f"{table}: duplicated rows"
        assert len(frame) == len(reference.tables[table]), table
        pd.testing.assert_frame_equal(frame, reference.tables[table], obj=table)


def run_files(settings: Settings) -> dict[str, pd.DataFrame]:
    run_dir = settings.run_dir(DAY)
    return {p.name: pd.read_parquet(p) for p in sorted(run_dir.glob("*.parquet"))}


def store_files(settings: Settings) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(settings.store_dir.iterdir())
    }


def day_counts(url: str) -> dict[str, int]:
    """Rows of the day per table, read by a fresh connection (what any reader sees)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {
                t: conn.execute(
                    text(f'SELECT count(*) FROM "{t}" WHERE period = :p'), {"p": DAY}
                ).scalar_one()
                for t in PER_DAY_TABLES
            }
    finally:
        engine.dispose()


def wait_for(what: str, probe: Callable[[], object], timeout: float = WAIT) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


class OrgUnitLock:
    """Hold ACCESS EXCLUSIVE on org_unit so a publish blocks right before its commit."""

    def __init__(self, url: str) -> None:
        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as conn:
            ensure_schema(conn, CAT)
        self.engine = engine
        self.conn: Connection | None = None

    def hold(self) -> None:
        self.conn = self.engine.connect()
        self.conn.execute(text("LOCK TABLE org_unit IN ACCESS EXCLUSIVE MODE"))

    def blocked_publisher(self) -> int:
        """pid of the publishing backend once it waits on our lock (bounded wait)."""
        stmt = text(
            "SELECT pid FROM pg_stat_activity WHERE application_name = :app "
            "AND datname = current_database() AND wait_event_type = 'Lock'"
        )

        def probe() -> int | None:
            with self.engine.connect() as conn:
                return conn.execute(stmt, {"app": PUBLISH_APPLICATION}).scalar()

        return int(wait_for("the publish to block on org_unit", probe))

    def backend_alive(self, pid: int) -> bool:
        with self.engine.connect() as conn:
            stmt = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
            return conn.execute(stmt, {"pid": pid}).scalar_one() > 0

    def terminate(self, pid: int) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()

    def release(self) -> None:
        if self.conn is not None:
            self.conn.rollback()
            self.conn.close()
            self.conn = None

    def close(self) -> None:
        self.release()
        self.engine.dispose()


@pytest.fixture
def org_unit_lock(pg_url: str) -> Iterator[OrgUnitLock]:
    lock = OrgUnitLock(pg_url)
    try:
        yield lock
    finally:
        lock.close()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Run the demo day (as ``huizong run`` does) in its own process group; killed at teardown."""
    procs: list[subprocess.Popen] = []

    def start(home: Path, url: str, inbox: Path, tag: str = "run") -> subprocess.Popen:
        env = {
            **os.environ,
            "HUIZONG_HOME": str(home),
            "HUIZONG_WAREHOUSE_URL": url,
            "GX_ANALYTICS_ENABLED": "false",
        }
        out = open(tmp_path / f"{tag}.out", "wb")  # noqa: SIM115 - closed below
        err = open(tmp_path / f"{tag}.err", "wb")  # noqa: SIM115
        args = [DAY.isoformat(), str(inbox)]
        proc = subprocess.Popen(
            [sys.executable, "-c", RUN_CODE, *args],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        out.close()
        err.close()
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=WAIT)


def kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=WAIT) == -signal.SIGKILL


# ---- 1. the warehouse goes away in the middle of publishing ---------------------------


def day_tables(settings: Settings, marked: bool = False) -> DayTables:
    """The reference run's files as a publication; ``marked``: every row says "v2"."""
    read = {name: frame.copy() for name, frame in run_files(settings).items()}
    tables = DayTables(
        consolidated=read[frames.CONSOLIDATED],
        completeness=read[frames.COMPLETENESS],
        missing=read[frames.MISSING],
        quarantine=read[frames.QUARANTINE],
        warnings=read[frames.WARNINGS],
        ledger=read[frames.ACCOUNTED_LEDGER],
        report=read[frames.ACCEPTED],
    )
    if marked:
        for frame, col in [
            (tables.consolidated, "unit_name"),
            (tables.completeness, "unit_name"),
            (tables.missing, "unit_name"),
            (tables.quarantine, "unit_name"),
            (tables.warnings, "unit_name"),
            (tables.ledger, "file_name"),
            (tables.report, "unit_name"),
        ]:
            frame[col] = frame[col].fillna("").astype("str") + MARK
    return tables


def marked_rows(url: str) -> dict[str, tuple[int, int]]:
    """(rows, rows carrying the v2 mark) of the day per table, as a reader sees them."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            out = {}
            for t, col in MARKED.items():
                stmt = text(
                    f'SELECT count(*), count(*) FILTER (WHERE "{col}" LIKE :m) '
                    f'FROM "{t}" WHERE period = :p'
                )
                total, marked = conn.execute(stmt, {"m": f"%{MARK}", "p": DAY}).one()
                out[t] = (total, marked)
            return out
    finally:
        engine.dispose()


def test_publish_survives_a_killed_backend_and_never_shows_a_partial_day(
    pg_url: str, reference: Reference, org_unit_lock: OrgUnitLock, caplog: pytest.LogCaptureFixture
) -> None:
    registry = load_registry()
    v1 = day_tables(reference.settings)
    counts = publish_tables(pg_url, DAY, v1, registry, CAT).rows
    before = {t: (counts[t], 0) for t in PER_DAY_TABLES}
    assert marked_rows(pg_url) == before

    outcome: dict[str, object] = {}

    def publish_v2() -> None:
        try:
            outcome["counts"] = publish_tables(
                pg_url, DAY, day_tables(reference.settings, marked=True), registry, CAT,
                backoff=0.05,
            ).rows  # fmt: skip
        except BaseException as exc:  # reported to the test thread below
            outcome["error"] = exc

    caplog.set_level("WARNING", logger="huizong.publish.warehouse")
    org_unit_lock.hold()
    thread = threading.Thread(target=publish_v2, daemon=True)
    thread.start()
    pid = org_unit_lock.blocked_publisher()
    # the new day is deleted and reloaded inside the open transaction: readers see v1 only
    assert marked_rows(pg_url) == before
    assert org_unit_lock.terminate(pid) is True
    wait_for("the killed backend to go", lambda: not org_unit_lock.backend_alive(pid))
    assert marked_rows(pg_url) == before  # after the failure: still exactly v1
    org_unit_lock.release()
    thread.join(WAIT)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["counts"] == counts
    after = {t: (counts[t], counts[t]) for t in PER_DAY_TABLES}
    assert marked_rows(pg_url) == after  # the retry committed the whole of v2
    retries = [r for r in caplog.records if "lost the warehouse connection" in r.getMessage()]
    assert [r.getMessage().split(" (")[0] for r in retries] == [
        f"publishing {DAY}: lost the warehouse connection on attempt 1 of 4"
    ]


def test_a_data_error_fails_at_once_and_leaves_the_day(pg_url: str, reference: Reference) -> None:
    registry = load_registry()
    counts = publish_tables(pg_url, DAY, day_tables(reference.settings), registry, CAT).rows
    bad = day_tables(reference.settings, marked=True)
    bad.consolidated.loc[bad.consolidated.index[-1], "status"] = pd.NA  # NOT NULL column
    slept: list[float] = []
    with pytest.raises(psycopg.errors.NotNullViolation) as info:
        publish_tables(pg_url, DAY, bad, registry, CAT, retries=3, sleep=slept.append)
    assert slept == []
    # the day's partition being loaded (consolidated_20200128_v…) or the plain table
    assert 'column "status" of relation "consolidated' in str(info.value)
    assert info.value.__notes__ == [
        f"publishing {DAY} failed on a data or programming error, not a lost connection: "
        f"not retried; the previous publication of {DAY} is untouched"
    ]
    assert marked_rows(pg_url) == {t: (counts[t], 0) for t in PER_DAY_TABLES}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_warehouse_is_retried_with_bounded_backoff(
    reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql+psycopg://huizong@127.0.0.1:{_closed_port()}/nowhere"
    tables, registry = day_tables(reference.settings), load_registry()
    slept: list[float] = []
    with pytest.raises(OperationalError) as info:
        publish_tables(url, DAY, tables, registry, CAT, retries=5, backoff=8, sleep=slept.append)
    assert slept == [8, 16, 30, 30, 30]  # doubling, capped at 30 s
    assert f"lost on all 6 attempts; the previous publication of {DAY}" in info.value.__notes__[0]

    monkeypatch.setenv("HUIZONG_PUBLISH_RETRIES", "2")
    monkeypatch.setenv("HUIZONG_PUBLISH_BACKOFF", "0.5")
    slept.clear()
    with pytest.raises(OperationalError):
        publish_tables(url, DAY, tables, registry, CAT, sleep=slept.append)
    assert slept == [0.5, 1.0]


# ---- 2. the worker is killed in the middle of a run ------------------------------------


def test_worker_killed_midway_then_rerun_converges(
    tmp_path: Path, pg_url: str, inbox: Path, reference: Reference, org_unit_lock: OrgUnitLock,
    spawn,
) -> None:  # fmt: skip
    settings = Settings(home=tmp_path / "var", warehouse_url=pg_url)
    run_dir = settings.run_dir(DAY)

    # killed right after ingest wrote its files
    proc = spawn(settings.home, pg_url, inbox, tag="kill1")
    wait_for("ingest to write its files", lambda: (run_dir / frames.LEDGER).exists())
    kill(proc)
    assert (run_dir / frames.RECEIVED).exists()
    assert not (run_dir / frames.ACCEPTED).exists()  # validate was still running

    # killed in the middle of publishing: the whole day loaded, not committed
    org_unit_lock.hold()
    proc = spawn(settings.home, pg_url, inbox, tag="kill2")
    pid = org_unit_lock.blocked_publisher()
    kill(proc)
    org_unit_lock.release()  # the orphaned backend finds its client gone and rolls back
    wait_for("the orphaned backend to end", lambda: not org_unit_lock.backend_alive(pid))
    assert day_counts(pg_url) == dict.fromkeys(PER_DAY_TABLES, 0)
    assert (run_dir / frames.CONSOLIDATED).exists()  # killed after the roll-up

    # an older run's leftovers must not poison a re-run: a stale step output with other
    # rows, and a temp file a killed writer left half-written
    reference.run_files[frames.CONSOLIDATED].head(3).to_parquet(run_dir / frames.CONSOLIDATED)
    (run_dir / f"{frames.ACCEPTED}.4242.tmp").write_bytes(b"PAR1 half a file")

    pipeline.run_day(DAY, settings, inbox)
    assert_same_tables(pg_url, reference)
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(
        [
            *reference.run_files,
            ".run.lock",
            "late_routes.json",
            pipeline.INBOX_LISTING,
            pipeline.PLANNED_LISTING,
        ]
    )
    for name, frame in run_files(settings).items():
        pd.testing.assert_frame_equal(frame, reference.run_files[name], obj=name)


# ---- 3. two runs of the same day at once -----------------------------------------------


def test_two_runs_at_once_are_serialised(
    tmp_path: Path, pg_url: str, inbox: Path, reference: Reference, spawn
) -> None:
    home = tmp_path / "var"
    procs = [spawn(home, pg_url, inbox, tag=f"run{i}") for i in (1, 2)]
    codes = [p.wait(timeout=3 * WAIT) for p in procs]
    errs = [(tmp_path / f"run{i}.err").read_text(encoding="utf-8") for i in (1, 2)]
    assert codes == [0, 0], errs
    waited = [f"another run of {DAY} holds" in e and "waiting for the run lock" in e for e in errs]
    assert sorted(waited) == [False, True], errs  # exactly one waited for the other
    assert_same_tables(pg_url, reference)


# ---- 4. a task retried after it succeeded ----------------------------------------------


def _workbook_cells(settings: Settings) -> dict[str, pd.DataFrame]:
    (path,) = settings.out_dir(DAY).glob("*.xlsx")
    return pd.read_excel(path, sheet_name=None, header=None, engine="calamine")


def test_every_step_rerun_after_success_changes_nothing(
    tmp_path: Path, pg_url: str, inbox: Path, reference: Reference
) -> None:
    settings = Settings(home=tmp_path / "var", warehouse_url=pg_url)
    steps: list[tuple[str, Callable[[], object]]] = [
        ("ingest", lambda: pipeline.ingest_day(DAY, settings, inbox)),
        ("validate", lambda: pipeline.validate_day(DAY, settings)),
        ("rollup", lambda: pipeline.rollup_day(DAY, settings)),
        ("publish", lambda: pipeline.publish_day(DAY, settings)),
        ("workbook", lambda: pipeline.workbook_day(DAY, settings)),
    ]
    for name, step in steps:
        first = step()
        files, store = run_files(settings), store_files(settings)
        tables = tables_of(pg_url) if name == "publish" else None
        cells = _workbook_cells(settings) if name == "workbook" else None
        second = step()
        if name == "publish":  # the same tables again: no new version, nothing written
            assert second["unchanged"] is True and second["version"] == first["version"]
            assert second["rows"] == {}
            second = {**second, "rows": first["rows"], "unchanged": first["unchanged"]}
        assert second == first, name
        again = run_files(settings)
        assert list(again) == list(files), name
        for file, frame in again.items():
            pd.testing.assert_frame_equal(frame, files[file], obj=f"{name}: {file}")
        assert store_files(settings) == store, name
        if tables is not None:
            for table, frame in tables_of(pg_url).items():
                pd.testing.assert_frame_equal(frame, tables[table], obj=f"{name}: {table}")
        if cells is not None:
            for sheet, frame in _workbook_cells(settings).items():
                pd.testing.assert_frame_equal(frame, cells[sheet], obj=f"workbook: {sheet}")
    assert_same_tables(pg_url, reference)
    for file, frame in run_files(settings).items():
        pd.testing.assert_frame_equal(frame, reference.run_files[file], obj=file)


def test_ingest_cleared_alone_then_publish_changes_nothing(
    tmp_path: Path, pg_url: str, inbox: Path, reference: Reference
) -> None:
    settings = Settings(home=tmp_path / "var", warehouse_url=pg_url)
    shutil.copytree(reference.settings.run_dir(DAY), settings.run_dir(DAY))
    pipeline.ingest_day(DAY, settings, inbox)  # an Airflow task cleared without downstream
    pipeline.publish_day(DAY, settings)
    assert_same_tables(pg_url, reference)
