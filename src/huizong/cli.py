"""``huizong`` command line: the pipeline without the scheduler, and the clerk's tools."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from huizong.settings import Settings

if TYPE_CHECKING:
    import pandas as pd


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _yesterday() -> date:
    from zoneinfo import ZoneInfo

    from huizong.settings import TIMEZONE

    return datetime.now(ZoneInfo(TIMEZONE)).date() - timedelta(days=1)


def _cmd_run(args: argparse.Namespace) -> int:
    from huizong.pipeline import run_day

    settings = Settings.resolve()
    summary = run_day(args.date, settings, args.inbox, allow_empty=args.allow_empty)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def _cmd_backfill(args: argparse.Namespace) -> int:
    """Each day of the range, oldest first, as the night runs it, with trigger ``backfill``:
    a day whose inputs did not change keeps its version. Stops at the first day refused."""
    from datetime import timedelta

    from huizong.pipeline import run_day

    if args.to_date < args.from_date:
        raise ValueError(
            f"--to {args.to_date} 早于 --from {args.from_date} / --to is before --from"
        )
    settings = Settings.resolve()
    day = args.from_date
    while day <= args.to_date:
        summary = run_day(day, settings, allow_empty=args.allow_empty, trigger="backfill")
        published = summary.get("publish", {})
        state = "未变 unchanged" if published.get("unchanged") else "新版本 new version"
        print(f"{day} 第{published.get('version')}版 version {published.get('version')}: {state}")
        day += timedelta(days=1)
    return 0


def _cmd_demo_data(args: argparse.Namespace) -> int:
    """For the registry later runs use (a loaded one, else the shipped 沧州市 extract)."""
    from huizong.demo import plan_demo_day, write_demo_plan
    from huizong.registry import registry_for

    settings = Settings.from_env()
    registry = registry_for(settings)
    plan = plan_demo_day(args.date, seed=args.seed, registry=registry)  # refuses first
    inbox = args.inbox or settings.inbox_for(args.date)
    written = write_demo_plan(plan, inbox)
    root = registry.units.loc[registry.units["code"] == registry.root, "name"]
    name = root.iloc[0] if len(root) else ""
    print(f"{len(written)} demo files for {args.date} ({registry.root} {name}) in {inbox}")
    return 0


def _cmd_template(args: argparse.Namespace) -> int:
    from huizong.catalogue import load_catalogue
    from huizong.ingest.template import write_template
    from huizong.registry import registry_for

    settings = Settings.from_env()
    path = write_template(
        args.output, args.unit, args.date, load_catalogue(settings.form), registry_for(settings)
    )
    print(path)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from huizong.validate.files import validate_files

    return validate_files(args.files, args.date, Settings.from_env(), out=sys.stdout)


def _cmd_catalogue(args: argparse.Namespace) -> int:
    from huizong.catalogue import load_catalogue

    cat = load_catalogue(Settings.from_env().form)
    if args.json:
        print(json.dumps(cat.to_dict(), ensure_ascii=False, indent=2))
    else:
        for ind in cat.indicators:
            print(
                f"{ind.code:32} {ind.zh}（{ind.unit}） {ind.across_units}/{ind.across_time}"
                f" dept={ind.department}"
            )
    return 0


def _cmd_registry_load(args: argparse.Namespace) -> int:
    from huizong.registry import load_registry, save_registry

    settings = Settings.from_env()
    registry = load_registry(args.path, args.departments)
    target = save_registry(registry, settings)
    counts = registry.units.groupby("kind").size().to_dict()
    print(f"registry with root {registry.root} saved to {target}: {counts}")
    return 0


def _cmd_review_assign(args: argparse.Namespace) -> int:
    from huizong.review.admin import assign

    units = assign(Settings.resolve(), args.user, args.codes, role=args.role)
    print(f"{args.user} ({args.role}): {', '.join(units)}")
    return 0


def _cmd_review_revoke(args: argparse.Namespace) -> int:
    from huizong.review.admin import revoke

    units = revoke(Settings.resolve(), args.user, args.codes, role=args.role)
    print(f"{args.user} ({args.role}): {', '.join(units) or 'no units'}")
    return 0


def _cmd_review_scopes(args: argparse.Namespace) -> int:
    from huizong.review.admin import scopes
    from huizong.review.store import ROLES

    settings = Settings.resolve()
    given = {role: scopes(settings, args.user, role) for role in ROLES}
    lines = [f"{code}\t{role}" for role, units in given.items() for code in units]
    print("\n".join(lines) if lines else f"{args.user}: no units (sees nothing)")
    return 0


def _cmd_intake_pull(args: argparse.Namespace) -> int:
    from huizong.intake.arrivals import SourceUnavailable
    from huizong.intake.credentials import MissingConnection
    from huizong.intake.pull import pull_sources

    try:
        summary = pull_sources(Settings.from_env())
    except (SourceUnavailable, MissingConnection) as exc:
        print(f"huizong: error: {exc}", file=sys.stderr)
        return 1
    for name, got in summary.items():
        print(f"{name}: {got['messages']} messages, {got['files_new']} new files {got['days']}")
    if not summary:
        print("no mailbox in the sources file (HUIZONG_SOURCES): nothing to pull")
    return 0


def _cmd_intake_chase(args: argparse.Namespace) -> int:
    from huizong.intake.config import load_sources
    from huizong.intake.deadlines import chase_day, run_deadline

    settings = Settings.resolve()
    if args.no_notify:
        summary = chase_day(args.date, args.level, settings, load_sources(settings.sources), None)
    else:
        summary = run_deadline(args.date, args.level, settings)
    print(
        f"{summary['day']} {summary['level']}: {summary['missing']} units missing; "
        f"list {summary['list']}; notified {', '.join(summary['notified']) or 'nobody'}"
    )
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from huizong.catalogue import load_catalogue
    from huizong.periods import parse_period, week_start_of
    from huizong.publish import unit_report
    from huizong.registry import registry_for

    settings = Settings.resolve()
    period = parse_period(args.period, week_start=week_start_of(settings))
    fmt = args.format or (args.output.suffix.lstrip(".").lower() or "xlsx")
    if fmt not in REPORT_FORMATS:
        raise ValueError(
            f"报告格式“{fmt}”不支持 / unknown format {fmt!r}: {', '.join(REPORT_FORMATS)}"
        )
    catalogue, registry = load_catalogue(settings.form), registry_for(settings)
    tables = unit_report.load_unit_tables(
        settings.warehouse, args.unit, period, registry, catalogue
    )
    if fmt == "xlsx":
        path = unit_report.write_unit_workbook(
            args.output, tables, registry, catalogue, settings=settings
        )
    else:
        context = unit_report.progress_context(
            tables, registry, catalogue, date.today(), settings=settings
        )
        text = unit_report.render_progress_text(context, settings.report_template)
        path = unit_report.write_progress_report(args.output, text, fmt)
    print(path)
    return 0


REPORT_FORMATS = ("xlsx", "docx", "txt")


def _timestamp(text: str) -> datetime:
    """ISO time with an offset; a bare time is read in the deployment's zone."""
    from zoneinfo import ZoneInfo

    from huizong.settings import TIMEZONE

    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"不是时间 not a time (e.g. 2020-01-29T08:00+08:00): {text!r}"
        ) from exc
    return at if at.tzinfo else at.replace(tzinfo=ZoneInfo(TIMEZONE))


def _cmd_versions(args: argparse.Namespace) -> int:
    from huizong.display import local_time, run_label
    from huizong.publish.warehouse import read_versions

    frame = read_versions(Settings.resolve().warehouse, args.date)
    if frame.empty:
        raise FileNotFoundError(f"{args.date} 尚未发布 / {args.date} was never published")
    cols = ["version", "published_at", "trigger", "run_id", "inputs", "changed_values"]
    shown = frame[cols].assign(
        published_at=frame["published_at"].map(local_time),
        run_id=[run_label(r) or "—" for r in frame["run_id"].astype("object")],  # CLI runs
    )
    print(shown.to_string(index=False))
    return 0


def _cmd_asof(args: argparse.Namespace) -> int:
    from huizong.display import local_time
    from huizong.publish.warehouse import read_asof, version_at

    url = Settings.resolve().warehouse
    version = version_at(url, args.date, args.at)
    if version is None:
        at = local_time(args.at)
        raise FileNotFoundError(
            f"{args.date} 在 {at} 时尚未发布 / {args.date} was not yet published at {at}"
        )
    frame = read_asof(url, args.table, args.date, version)
    print(f"{args.date} 第{version}版 version {version}: {len(frame)} rows", file=sys.stderr)
    _write_csv(frame, args.output)
    return 0


def _write_csv(frame: pd.DataFrame, output: str | None) -> None:
    """CSV as a clerk reads it: 12 people, not 12.0 (values share one float column)."""
    frame.to_csv(output or sys.stdout, index=False, float_format="%.15g")


def _cmd_changes(args: argparse.Namespace) -> int:
    from huizong.publish.warehouse import read_changes, read_versions

    url = Settings.resolve().warehouse
    known = read_versions(url, args.date)
    if known.empty:
        raise FileNotFoundError(f"{args.date} 尚未发布 / {args.date} was never published")
    version = args.version or int(known["version"].max())
    if version not in set(known["version"].astype(int)):
        raise FileNotFoundError(
            f"{args.date} 没有第{version}版（已有 {known['version'].min()}–"
            f"{known['version'].max()}）/ {args.date} has no version {version}"
        )
    frame = read_changes(url, args.date, version, args.table)
    print(
        f"{args.date} 第{version}版 version {version}: {_change_counts(frame, args.table)}",
        file=sys.stderr,
    )
    if len(frame):
        _write_csv(frame, args.output)
    return 0


def _change_counts(frame: pd.DataFrame, table: str) -> str:
    """The rows listed and, for consolidated, how many change an indicator value: the
    figure ``huizong versions`` and the pages call "values changed" (one rule, shared)."""
    from huizong.publish.change_report import value_changed

    rows = f"{len(frame)} 项变化 changes"
    if table != "consolidated":
        return rows
    values = int(value_changed(frame).sum())
    return f"{rows}，其中指标值变化 {values} 项 / of which {values} indicator values changed"


def _cmd_trace(args: argparse.Namespace) -> int:
    from huizong.catalogue import load_catalogue
    from huizong.lineage import load_trace, render_text
    from huizong.periods import parse_period, week_start_of
    from huizong.registry import registry_for

    settings = Settings.resolve()
    period = parse_period(args.period, week_start=week_start_of(settings))
    catalogue, registry = load_catalogue(settings.form), registry_for(settings)
    trace = load_trace(settings.warehouse, args.unit, args.indicator, period, registry, catalogue)
    if args.format == "csv":
        _write_csv(trace.contributors, None)
    else:
        sys.stdout.write(render_text(trace, limit=args.limit))
    return 0 if trace.re_adds else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="huizong", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the nightly roll-up for one day, without Airflow")
    p.add_argument("--date", type=_day, default=None, help="reporting day (default: yesterday)")
    p.add_argument("--inbox", type=Path, default=None, help="folder of that day's submissions")
    p.add_argument(
        "--allow-empty",
        action="store_true",
        help="publish the day even if its inbox is missing or empty (nobody reported)",
    )
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "backfill", help="(re)run a range of days, oldest first; unchanged days keep their version"
    )
    p.add_argument("--from", dest="from_date", type=_day, required=True)
    p.add_argument("--to", dest="to_date", type=_day, required=True)
    p.add_argument("--allow-empty", action="store_true", help="publish days nobody reported")
    p.set_defaults(func=_cmd_backfill)

    p = sub.add_parser(
        "demo-data", help="generate a realistic demo day for the registry in use (default 沧州市)"
    )
    p.add_argument("--date", type=_day, required=True)
    p.add_argument("--inbox", type=Path, default=None)
    p.add_argument("--seed", type=int, default=20200128)
    p.set_defaults(func=_cmd_demo_data)

    p = sub.add_parser("template", help="write the workbook a unit fills in")
    p.add_argument("--unit", required=True, help="village, township or department code")
    p.add_argument("--date", type=_day, required=True)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.set_defaults(func=_cmd_template)

    p = sub.add_parser("report", help="a unit's consolidated workbook or 情况汇报 for a period")
    p.add_argument("--unit", required=True, help="org unit code (township, county, city …)")
    p.add_argument("--period", required=True, help="2020-01-28 | 2020-W05 | 2020-01-2旬 | 2020-01")
    p.add_argument("--format", choices=REPORT_FORMATS, default=None, help="default: from -o")
    p.add_argument("-o", "--output", type=Path, required=True)
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("versions", help="every published version of a day")
    p.add_argument("--date", type=_day, required=True)
    p.set_defaults(func=_cmd_versions)

    p = sub.add_parser("asof", help="a day's table as it was published at a time (CSV)")
    p.add_argument("--date", type=_day, required=True)
    p.add_argument("--at", type=_timestamp, required=True, help="e.g. 2020-01-29T08:00+08:00")
    p.add_argument("--table", choices=("consolidated", "completeness"), default="consolidated")
    p.add_argument("-o", "--output", type=Path, default=None)
    p.set_defaults(func=_cmd_asof)

    p = sub.add_parser("changes", help="what a version of a day changed, and why (CSV)")
    p.add_argument("--date", type=_day, required=True)
    p.add_argument("--version", type=int, default=None, help="default: the latest")
    p.add_argument("--table", choices=("consolidated", "completeness"), default="consolidated")
    p.add_argument("-o", "--output", type=Path, default=None)
    p.set_defaults(func=_cmd_changes)

    p = sub.add_parser("trace", help="where a published value comes from (exit 1: no re-add)")
    p.add_argument("--unit", required=True, help="unit code, e.g. 130921")
    p.add_argument("--indicator", required=True, help="indicator code (huizong catalogue)")
    p.add_argument("--period", required=True, help="2020-01-28 | 2020-W05 | 2020-01-2旬 | 2020-01")
    p.add_argument("--format", choices=("text", "csv"), default="text")
    p.add_argument("--limit", type=int, default=200, help="units listed at most (text)")
    p.set_defaults(func=_cmd_trace)

    p = sub.add_parser("validate", help="check submission files; exit 1 if any error")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--date", type=_day, default=None, help="expected reporting day")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("catalogue", help="print the indicator catalogue")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_catalogue)

    p = sub.add_parser("registry", help="org-unit registry")
    rsub = p.add_subparsers(dest="registry_command", required=True)
    r = rsub.add_parser("load", help="load a division-code folder (extract or national set)")
    r.add_argument("path", type=Path)
    r.add_argument("--departments", type=Path, default=None)
    r.set_defaults(func=_cmd_registry_load)

    p = sub.add_parser("review", help="stewards' review: which org units each user sees")
    vsub = p.add_subparsers(dest="review_command", required=True)
    r = vsub.add_parser("assign", help="give an Airflow user org units (their whole subtree)")
    r.add_argument("user", help="the Airflow user name")
    r.add_argument("codes", nargs="+", metavar="CODE", help="org unit codes in the registry")
    r.add_argument(
        "--role",
        choices=("steward", "reader"),
        default="steward",
        help="steward: reviews and acts (default); reader: only downloads the units' reports",
    )
    r.set_defaults(func=_cmd_review_assign)
    r = vsub.add_parser("revoke", help="take org units away from a user")
    r.add_argument("user")
    r.add_argument("codes", nargs="+", metavar="CODE")
    r.add_argument("--role", choices=("steward", "reader"), default="steward")
    r.set_defaults(func=_cmd_review_revoke)
    r = vsub.add_parser("scopes", help="list the org units a user is assigned")
    r.add_argument("user")
    r.set_defaults(func=_cmd_review_scopes)

    p = sub.add_parser("intake", help="sources: pull mailboxes, chase missing units")
    isub = p.add_subparsers(dest="intake_command", required=True)
    r = isub.add_parser("pull", help="take the mailboxes of the sources file into the inboxes")
    r.set_defaults(func=_cmd_intake_pull)
    r = isub.add_parser("chase", help="list (and notify) the units missing at a deadline")
    r.add_argument("--date", type=_day, required=True)
    r.add_argument("--level", choices=["village", "township", "department"], default="village")
    r.add_argument("--no-notify", action="store_true", help="write the list only")
    r.set_defaults(func=_cmd_intake_chase)
    return parser


def main(argv: list[str] | None = None) -> int:
    from huizong.process import skip_final_collection

    skip_final_collection()  # a night's frames and GX objects: ≈1 s of walking at exit
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "date", "unset") is None and args.command == "run":
        args.date = _yesterday()
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError) as exc:
        print(f"huizong: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `huizong changes | head`: the reader has what it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
