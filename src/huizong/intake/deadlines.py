"""At each level's deadline: who has not reported, per township and county; tell the steward.

"Reported" here means a row for the unit arrived by the deadline (by its receipt time),
whatever validation later says of it: the point is to stop phoning units that did send
something, and to phone the ones that did not. The list is the registry's reporters of
that level minus those units, so it can be checked by a set difference.

* ``village`` (villages and communities, default 18:00) and ``township`` (the
  township's batch, default 20:00): village and community reporters;
* ``department`` (default 18:00): the departments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from huizong import warehouse
from huizong.intake.config import SourcesConfig, Steward
from huizong.intake.notify import Notifier
from huizong.registry import Registry
from huizong.schedule import deadline_at
from huizong.settings import Settings

LEVEL_ZH = {"village": "村（社区）", "township": "乡镇（街道）汇总", "department": "部门"}


@dataclass(frozen=True)
class Chase:
    """The units of one level still missing at its deadline."""

    day: date
    level: str
    deadline: datetime
    missing: pd.DataFrame  # code, name, township_code, township_name, county_code, county_name

    def for_steward(self, steward: Steward, registry: Registry) -> pd.DataFrame:
        """The part of the list in the steward's units (each with its whole subtree)."""
        mine: set[str] = set()
        for unit in steward.units:
            mine.update(registry.subtree_codes(unit))
        return self.missing[self.missing["code"].isin(mine).to_numpy()]


def deadline_of(day: date, level: str, config: SourcesConfig) -> datetime:
    """The level's deadline on the reporting day, in local time (Asia/Shanghai), from the
    sources file's ``[deadlines]`` (the one setting; defaults in ``schedule``)."""
    return deadline_at(day, level, config.deadlines)


def expected(registry: Registry, level: str) -> pd.DataFrame:
    """The registry's reporters that a level's deadline is about."""
    rep = registry.reporters
    rep = rep[rep["kind"] == "department"] if level == "department" else rep[rep["level"] == 5]
    return rep


def missing_at(
    day: date, level: str, received: pd.DataFrame, registry: Registry, config: SourcesConfig
) -> Chase:
    """Registry reporters of the level minus the units with a row received by the deadline."""
    deadline = deadline_of(day, level, config)
    at = pd.to_datetime(received["received_at"], utc=True)
    arrived = received.loc[(at <= pd.Timestamp(deadline)).to_numpy(), "unit_code"]
    want = expected(registry, level)
    gone = want[~want["code"].isin(set(arrived.dropna().astype(str)))]
    above = pd.concat([gone["township_code"], gone["county_code"], gone["parent_code"]])
    names = registry.names_of(above)
    missing = pd.DataFrame(
        {
            "code": gone["code"].astype(str),
            "name": gone["name"].astype(str),
            "township_code": gone["township_code"],
            "township_name": gone["township_code"].map(names),
            "county_code": gone["county_code"].fillna(gone["parent_code"]),
        }
    )
    missing["county_name"] = missing["county_code"].map(names)
    missing = missing.sort_values(["county_code", "township_code", "code"], na_position="last")
    return Chase(day, level, deadline, missing.reset_index(drop=True))


def chase_day(
    day: date,
    level: str,
    settings: Settings,
    config: SourcesConfig,
    notifier: Notifier | None,
) -> dict[str, Any]:
    """Read what arrived so far (the same ingest as the night), list the missing units,
    keep the list for the review page (in the warehouse, and as JSON beside the day's run
    files), notify each steward of their part."""
    from huizong import handover
    from huizong.catalogue import load_catalogue
    from huizong.ingest import ingest_inbox
    from huizong.registry.loaded import registry_for

    registry = registry_for(settings)
    received, _, _ = ingest_inbox(
        settings.inbox_for(day), day, load_catalogue(settings.form), registry, settings
    )
    chase = missing_at(day, level, received, registry, config)
    path = handover.write_json(
        settings,
        day,
        f"missing_at_{level}_deadline.json",
        {
            "day": day.isoformat(),
            "level": level,
            "deadline": chase.deadline.isoformat(),
            "missing": chase.missing.astype(object)
            .where(chase.missing.notna(), None)
            .to_dict("records"),
        },
    )
    warehouse.save_deadline_list(
        settings, day, level, chase.deadline, len(expected(registry, level)), chase.missing
    )
    sent = []
    if notifier is not None:
        for steward in config.stewards:
            part = chase.for_steward(steward, registry)
            if len(part):
                subject, body = notice(chase, part)
                notifier.send(steward.email, subject, body)
                sent.append(steward.email)
    return {
        "day": day.isoformat(),
        "level": level,
        "missing": len(chase.missing),
        "notified": sent,
        "list": str(path),
    }


def notice(chase: Chase, part: pd.DataFrame) -> tuple[str, str]:
    """Subject and body of a steward's notice: per county and township, each unit on a line."""
    when = chase.deadline.strftime("%H:%M")
    level = LEVEL_ZH[chase.level]
    subject = (
        f"【汇总】{chase.day.isoformat()} {level}截止{when}仍未上报 {len(part)} 个单位 / "
        f"{len(part)} units not reported by the {chase.level} deadline {when}"
    )
    lines = [
        f"{chase.day.isoformat()} 报表截止时间 {when}（{level}），以下单位尚未上报，请督促：",
        f"Reporting day {chase.day.isoformat()}, {chase.level} deadline {when}: "
        "these units have not reported yet; please follow up.",
        "",
    ]
    for (county, cname), county_rows in _groups(part, "county_code", "county_name"):
        lines.append(f"{cname} {county}（{len(county_rows)} 个未报 / missing）")
        for (town, tname), rows in _groups(county_rows, "township_code", "township_name"):
            lines.append(f"  {tname} {town}（{len(rows)} 个未报 / missing）")
            lines.extend(
                f"    {code} {name}" for code, name in zip(rows["code"], rows["name"], strict=True)
            )
    return subject, "\n".join(lines) + "\n"


def _groups(frame: pd.DataFrame, code: str, name: str) -> Iterable[tuple[tuple[str, str], Any]]:
    keyed = frame.assign(
        _c=frame[code].fillna("").astype(str), _n=frame[name].fillna("部门 / departments")
    )
    for key, rows in keyed.groupby(["_c", "_n"], sort=True):
        yield (key[0], key[1]), rows


def run_deadline(day: date, level: str, settings: Settings, *, in_task: bool = False) -> dict:
    """What the deadline task does: take the mailboxes first (mail that arrived by the
    deadline counts), then list and notify. A mailbox that is down fails the run (the
    list would be wrong); with stewards listed, the SMTP connection must exist."""
    from huizong.intake.config import load_sources
    from huizong.intake.credentials import connection_uri
    from huizong.intake.notify import SmtpNotifier
    from huizong.intake.pull import pull_sources

    config = load_sources(settings.sources)
    pulled = pull_sources(settings, in_task=in_task) if config.mailboxes or config.stores else {}
    notifier = None
    if config.stewards:
        uri = connection_uri(config.smtp_conn_id, in_task=in_task)
        notifier = SmtpNotifier.from_uri(uri, sender=config.mail_from)
    return {**chase_day(day, level, settings, config, notifier), "pulled": pulled}
