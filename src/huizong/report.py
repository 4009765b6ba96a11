"""Print what a night produced and where it is: the last line of ``make demo``.

Reads the published warehouse (not the run files), so it shows what agencies will see.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from huizong import warehouse
from huizong.settings import Settings
from huizong.sqlfiles import statement


def summarise(day: date, settings: Settings) -> str:
    params = {"p": day.isoformat()}
    with warehouse.engine(settings) as engine, engine.connect() as conn:
        files, received, accepted, quarantined, superseded = conn.execute(
            statement("report/ledger_totals.sql"), params
        ).one()
        root = conn.execute(statement("report/root_completeness.sql"), params).first()
        departments = conn.execute(statement("report/root_departments.sql"), params).scalar()
        reasons = conn.execute(statement("report/quarantine_by_rule.sql"), params).all()
    lines = [f"汇总 Huizong — reporting day {day.isoformat()}"]
    lines.append(
        f"  files {files}: rows received {received or 0} = accepted {accepted or 0}"
        f" + quarantined {quarantined or 0} + superseded {superseded or 0}"
    )
    if root is not None:
        name, expected, reported, rate, late = root
        # the reporters are villages/communities AND departments: an indicator's 应报 on
        # the totals page leaves out departments whose figures it does not add
        deps = int(departments or 0)
        lines.append(
            f"  {name}: {reported}/{expected} reporters ({float(rate):.1%}), {late} late"
            f" — {expected - deps} villages/communities + {deps} departments"
        )
    for rule, n in reasons:
        lines.append(f"  quarantined: {n:5d} × {rule}")
    out = settings.out_dir(day)
    lines.append("Outputs:")
    lines.append(f"  warehouse   {settings.warehouse}")
    for workbook in sorted(out.glob("*.xlsx")):
        lines.append(f"  workbook    {workbook}")
    docs = settings.data_docs_dir(day) / "index.html"
    if docs.exists():
        lines.append(f"  data docs   {docs}")
    lines.append(f"  run files   {settings.handover}/runs/{day.isoformat()}")
    lines.append(f"  inbox       {settings.inbox_for(day)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m huizong.report")
    parser.add_argument("--date", type=date.fromisoformat, required=True)
    args = parser.parse_args(argv)
    print(summarise(args.date, Settings.resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
