"""Ingest alone, against the calamine read of the same files, at city and province size.

``python bench/bench_ingest.py [--sizes city,province] [--before REV]``: for each size
(generated once by ``bench/national_day.py``; province needs the national division codes
and is skipped without them), three kinds of child process, each on a fresh copy of the
day's inbox (the copy is not timed):

- ``floor``: calamine reads every workbook of the inbox (``bench_national.floor_calamine``);
- ``ingest``: ``ingest_inbox`` of this checkout — store, receipts, reader, typing, ledger;
- ``before`` (with ``--before REV``): the same call with ``src/`` of git revision REV
  first on ``sys.path``, so that a change is measured against its base in the same run.

Wall time, CPU time and the CPU share the process got (the machine is shared: compare the
ratios of one run, and the CPU-time ratio when the share is low), peak RSS (the child's own
``VmHWM``, :func:`peak.peak_rss_bytes`), ms per file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import national_day as nd
from peak import peak_rss_bytes

ROOT = Path(__file__).resolve().parents[1]


def child(kind: str, size: str) -> None:
    """One measurement in this process; prints a JSON line."""
    settings = nd.prepare(size)
    assert settings is not None
    files = sum(1 for _ in nd.inbox_of(size).iterdir())
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        if kind == "floor":
            from bench_national import floor_calamine

            run = floor_calamine(settings)
        else:
            from huizong.catalogue import load_catalogue
            from huizong.ingest.inbox import ingest_inbox
            from huizong.registry import registry_for

            inbox = Path(tmp) / "inbox" / nd.DAY.isoformat()
            shutil.copytree(nd.inbox_of(size), inbox)
            catalogue = load_catalogue(settings.form)
            registry = registry_for(settings)
            private = replace(settings, home=Path(tmp) / "home")

            def run() -> object:
                return ingest_inbox(inbox, nd.DAY, catalogue, registry, private)

        cpu0, wall0 = time.process_time(), time.perf_counter()
        run()
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
    rss = peak_rss_bytes()  # VmHWM: ru_maxrss carries the parent's peak across fork/exec
    print(json.dumps({"op": wall, "cpu": cpu, "rss": rss, "files": files}))


def _measure(kind: str, size: str, before_src: Path | None) -> dict | None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if kind == "before" and before_src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(before_src), env.get("PYTHONPATH", "")])
    args = [sys.executable, __file__, "--child", kind, "--size", size]
    done = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        print(f"  {size} {kind}: FAILED\n{done.stderr[-2000:]}", file=sys.stderr, flush=True)
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"  {size:8} {kind:7} {result['op']:8.2f} s  cpu {result['cpu']:7.2f} s "
        f"({result['cpu'] / result['op']:4.0%})  {result['rss'] / 2**30:5.2f} GB",
        flush=True,
    )
    return result


def _export(rev: str, target: Path) -> Path:
    """``src/`` and ``sql/`` of a git revision, unpacked under ``target``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src", "sql"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target / "src"


def _row(label: str, size: str, m: dict | None, floor: dict | None) -> str:
    if m is None or floor is None:
        return f"| {label} | {size} | failed | | | | | |"
    per_file = m["op"] / m["files"] * 1000
    return (
        f"| {label} | {size} ({m['files']} files) | {m['op']:.2f} s | {per_file:.1f} ms "
        f"| {m['op'] / floor['op']:.1f}× | {m['cpu'] / floor['cpu']:.1f}× "
        f"| {m['cpu'] / m['op']:.0%} | {m['rss'] / 2**30:.2f} GB |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="city,province")
    parser.add_argument("--before", help="a git revision to measure beside this checkout")
    parser.add_argument("--child")
    parser.add_argument("--size")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.size)
        return 0
    lines = [
        "| ingest of | size | op | per file | ratio to floor (wall) | ratio (CPU time) "
        "| CPU share | peak RSS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="bench-before-") as tmp:
        before_src = _export(args.before, Path(tmp)) if args.before else None
        for size in args.sizes.split(","):
            if nd.prepare(size) is None:
                print(f"{size}: skipped, no national division codes at {nd.national_divisions()}")
                continue
            kinds = ("floor", "ingest", *(("before",) if before_src else ()))
            got = {kind: _measure(kind, size, before_src) for kind in kinds}
            floor = got["floor"]
            lines.append(_row("calamine read (floor)", size, floor, floor))
            if before_src:
                lines.append(_row(f"ingest at {args.before}", size, got["before"], floor))
            lines.append(_row("ingest (this checkout)", size, got["ingest"], floor))
    print()
    print("\n".join(lines))
    print(f"\nload average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
