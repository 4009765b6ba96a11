"""Print what a night produced and where it is: the last line of ``make demo``.

Reads the published warehouse (not the run files), so it shows what agencies will see.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

import sqlalchemy as sa

from huizong.settings import Settings

_SQL_LEDGER = (
    "SELECT count(*) AS files, sum(rows_received), sum(rows_accepted), sum(rows_quarantined), "
    "sum(rows_superseded) FROM submission_ledger WHERE period = :p"
)
_SQL_ROOT = (
    "SELECT unit_name, expected_units, reported_units, reporting_rate, late_units "
    "FROM completeness WHERE period = :p AND level = (SELECT min(level) FROM completeness "
    "WHERE period = :p AND kind <> 'department')"
)
_SQL_REASONS = (
    "SELECT rule, count(*) AS n FROM quarantine WHERE period = :p GROUP BY rule ORDER BY n DESC"
)


def summarise(day: date, settings: Settings) -> str:
    engine = sa.create_engine(settings.warehouse)
    params = {"p": day.isoformat()}
    try:
        with engine.connect() as conn:
            files, received, accepted, quarantined, superseded = conn.execute(
                sa.text(_SQL_LEDGER), params
            ).one()
            root = conn.execute(sa.text(_SQL_ROOT), params).first()
            reasons = conn.execute(sa.text(_SQL_REASONS), params).all()
    finally:
        engine.dispose()
    lines = [f"汇总 Huizong — reporting day {day.isoformat()}"]
    lines.append(
        f"  files {files}: rows received {received or 0} = accepted {accepted or 0}"
        f" + quarantined {quarantined or 0} + superseded {superseded or 0}"
    )
    if root is not None:
        name, expected, reported, rate, late = root
        lines.append(f"  {name}: {reported}/{expected} reporters ({float(rate):.1%}), {late} late")
    for rule, n in reasons:
        lines.append(f"  quarantined: {n:5d} × {rule}")
    out = settings.out_dir(day)
    lines.append("Outputs:")
    lines.append(f"  warehouse   {settings.warehouse}")
    for workbook in sorted(out.glob("*.xlsx")):
        lines.append(f"  workbook    {workbook}")
    lines.append(f"  run files   {settings.run_dir(day)}")
    lines.append(f"  inbox       {settings.inbox_for(day)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m huizong.report")
    parser.add_argument("--date", type=date.fromisoformat, required=True)
    args = parser.parse_args(argv)
    print(summarise(args.date, Settings.from_env()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
