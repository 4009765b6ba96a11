"""The demo city's day end to end through Airflow (issue 11's goal: ≤ 15 s), against
``huizong run`` of the same day in the same run.

Airflow: ``airflow dags test huizong_nightly`` of the demo day, every task of the real DAG
(ingest partitions, validate, roll-up, publish, workbook, periods, the ``docs_due`` event)
in one process on a migrated SQLite metadata database of its own (migrated beforehand,
untimed); then, timed apart, ``airflow dags test huizong_data_docs`` of the day, which a
scheduler starts from that event beside the night's roll-up (``dags test`` has none).
Beside them, ``huizong run`` of the same inbox into a fresh home: the same steps without
the scheduler, Data Docs included (in-process, last), so the difference is what Airflow
adds. Each is run ``--repeat`` times, each time into a fresh home (a first publish of the
day); reported: wall, CPU of the process and its children, CPU share (well below 1 means
the shared machine was busy), the ratios to ``huizong run``, and for the Airflow runs the
DAG run's own span as Airflow records it (``dag_run.start_date`` → ``end_date``, what the
UI shows as the run's duration): the process's wall less the CLI's start (Python, Airflow's
import, parsing) and its exit (since ``huizong.process.skip_final_collection``, no longer
the interpreter's final garbage collection of Airflow's FastAPI/Cadwyn objects), which a
running deployment does not pay per run.

    .venv/bin/python bench/bench_airflow_day.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAY = "2020-01-28"
RUN = "huizong run (no scheduler, docs included)"


def _env(home: Path, airflow_home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HUIZONG_HOME": str(home),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "GX_ANALYTICS_ENABLED": "false",
    }


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system of the finished children) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _run_span(airflow_home: Path, dag_id: str) -> float:
    """Seconds from the newest run of ``dag_id`` starting to its end, from Airflow's
    metadata database (both times are UTC, written by Airflow)."""
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        start, end = db.execute(
            "SELECT julianday(start_date), julianday(end_date) FROM dag_run"
            " WHERE dag_id = ? ORDER BY id DESC LIMIT 1",
            (dag_id,),
        ).fetchone()
    return (end - start) * 86400.0


def _fresh_home(root: Path, name: str, inbox: Path) -> Path:
    home = root / name
    if home.exists():
        shutil.rmtree(home)
    shutil.copytree(inbox, home / "inbox" / DAY)
    return home


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    repeat = parser.parse_args().repeat
    rows: list[tuple[str, float, float]] = []
    spans: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-airflow-") as tmp:
        root = Path(tmp)
        airflow_home = root / "airflow"
        airflow_home.mkdir()
        seed = root / "seed"
        env = _env(seed, airflow_home)
        _timed([str(BIN / "huizong"), "demo-data", "--date", DAY], env)
        _timed([str(BIN / "airflow"), "db", "migrate"], env)
        inbox = seed / "inbox" / DAY
        for i in range(repeat):
            home = _fresh_home(root, f"airflow{i}", inbox)
            conf = json.dumps({"day": DAY})
            for dag_id in ("huizong_nightly", "huizong_data_docs"):
                dag = [str(BIN / "airflow"), "dags", "test", dag_id, "-c", conf]
                what = f"airflow dags test {dag_id}"
                rows.append((what, *_timed(dag, _env(home, airflow_home))))
                spans.setdefault(what, []).append(_run_span(airflow_home, dag_id))
            home = _fresh_home(root, f"run{i}", inbox)
            run = [str(BIN / "huizong"), "run", "--date", DAY]
            rows.append((RUN, *_timed(run, _env(home, airflow_home))))
            print(
                f"  round {i + 1}: nightly {rows[-3][1]:.1f} s, docs {rows[-2][1]:.1f} s, "
                f"run {rows[-1][1]:.1f} s",
                flush=True,
            )
    print(
        "\n| demo city day (210 files) | wall | CPU | CPU share | the DAG run in Airflow |"
        "\n|---|---|---|---|---|"
    )
    seen: dict[str, int] = {}
    for what, wall, cpu in rows:
        n = seen[what] = seen.get(what, -1) + 1
        span = f"{spans[what][n]:.1f} s" if what in spans else ""
        print(f"| {what} | {wall:.1f} s | {cpu:.1f} s | {cpu / wall:.2f} | {span} |")
    best = {w: min(r[1] for r in rows if r[0] == w) for w, _, _ in rows}
    cpus = {w: min(r[2] for r in rows if r[0] == w) for w, _, _ in rows}
    print(f"\nbest of {repeat}, load average {os.getloadavg()[0]:.1f}:")
    for what in best:
        if what != RUN:
            print(
                f"  {what}: {best[what]:.1f} s = {best[what] / best[RUN]:.2f}× wall, "
                f"{cpus[what] / cpus[RUN]:.2f}× CPU of {RUN}; the DAG run "
                f"{min(spans[what]):.1f} s"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
