"""Lineage of the demo day: every traced total re-adds to what the warehouse published.

The property runs over townships, counties, the city, departments and every indicator
(sum, max, min, mean, text; department modes add and beside). The trace is built from the
``report`` rows, the warehouse's independent record of what each reporter said, and the
value it is compared with is the published ``consolidated`` cell.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huizong.catalogue import load_catalogue
from huizong.cli import main
from huizong.demo import generate_demo_day
from huizong.lineage import Published, build_trace, load_trace
from huizong.lineage.render import render_text
from huizong.lineage.trace import STATUS_NOT_REPORTED, STATUS_REPORTED
from huizong.periods import parse_period
from huizong.pipeline import registry_for, run_day
from huizong.publish.warehouse import read_day_range, read_table
from huizong.settings import Settings
from huizong.warehouse import actions_between

DAY = date(2020, 1, 28)
CAT = load_catalogue()
PERIOD = parse_period(DAY.isoformat())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("var")
    settings = Settings(home=home, warehouse_url=f"sqlite:///{home / 'warehouse.sqlite'}")
    inbox = home / "inbox" / DAY.isoformat()
    generate_demo_day(DAY, inbox)
    run_day(DAY, settings, inbox)
    return settings


@pytest.fixture(scope="module")
def day(demo: Settings) -> dict:
    """The published frames, read once; each example builds its trace from them."""
    url = demo.warehouse
    cons = read_table(url, "consolidated", DAY)
    return {
        "registry": registry_for(demo),
        "consolidated": cons.set_index(["unit_code", "indicator"]),
        "reports": read_table(url, "report", DAY, catalogue=CAT),
        "ledger": read_day_range(url, "submission_ledger", DAY, DAY),
        "actions": actions_between(url, DAY, DAY),
        "units": sorted(cons.loc[cons["level"].isin([2, 3, 4]), "unit_code"].unique()),
        "departments": sorted(cons.loc[cons["kind"] == "department", "unit_code"].unique()),
    }


def _trace(day: dict, unit: str, code: str, published: Published | None = None):
    cell = day["consolidated"].loc[(unit, code)]
    return build_trace(
        unit=unit,
        indicator=CAT.indicator(code),
        period=PERIOD,
        through=DAY,
        published=published
        or Published(
            value=None if pd.isna(cell["value"]) else float(cell["value"]),
            value_text=None if pd.isna(cell["value_text"]) else str(cell["value_text"]),
            status=str(cell["status"]),
            reporting_units=int(cell["reporting_units"]),
            expected_units=int(cell["expected_units"]),
        ),
        registry=day["registry"],
        catalogue=CAT,
        reports=day["reports"],
        ledger=day["ledger"],
        actions=day["actions"],
    )


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_total_re_adds_to_the_published_value(day: dict, data: st.DataObject) -> None:
    unit = data.draw(st.sampled_from(day["units"] + day["departments"]), label="unit")
    code = data.draw(st.sampled_from([i.code for i in CAT.indicators]), label="indicator")
    trace = _trace(day, unit, code)
    assert trace.re_adds, (unit, code, trace.published, trace.recomputed)
    cell = day["consolidated"].loc[(unit, code)]
    # every expected reporter is listed once, and the reported ones are the reporting units
    assert trace.contributors["unit_code"].is_unique
    assert len(trace.contributors) == int(cell["expected_units"])
    assert trace.reporting_units == int(cell["reporting_units"])
    # each reported value is backed by exactly one published row of a file in the ledger
    reported = trace.contributors[trace.contributors["status"] == STATUS_REPORTED]
    if CAT.indicator(code).is_numeric:
        assert sorted(trace.evidence["unit_code"]) == sorted(reported["unit_code"])
        assert trace.evidence["file_id"].isin(day["ledger"]["file_id"]).all()


def test_a_trace_that_does_not_re_add_says_so(day: dict) -> None:
    county = next(u for u in day["units"] if len(u) == 6)
    honest = _trace(day, county, "persons_screened")
    assert honest.re_adds
    off_by_one = dataclasses.replace(honest.published, value=honest.published.value + 1)
    assert not _trace(day, county, "persons_screened", off_by_one).re_adds
    one_less = dataclasses.replace(
        honest.published, reporting_units=honest.published.reporting_units - 1
    )
    assert not _trace(day, county, "persons_screened", one_less).re_adds


def test_missing_reporters_are_listed_as_not_reported(demo: Settings, day: dict) -> None:
    comp = read_table(demo.warehouse, "completeness", DAY)
    town = comp[(comp["level"] == 4) & (comp["missing_units"] > 0)].iloc[0]
    trace = _trace(day, town["unit_code"], "persons_screened")
    missing = trace.contributors[trace.contributors["status"] == STATUS_NOT_REPORTED]
    listed = {entry.split(" ")[0] for entry in str(town["missing_list"]).split("; ")}
    assert set(missing["unit_code"]) == listed


def test_a_reporter_without_a_value_reads_naturally(demo: Settings, day: dict) -> None:
    """Trial: a blank cell printed ``空白 blank | 未报 (none)``, as if it were not reported."""
    comp = read_table(demo.warehouse, "completeness", DAY)
    town = comp[(comp["level"] == 4) & (comp["missing_units"] > 0)].iloc[0]
    trace = _trace(day, town["unit_code"], "persons_screened")
    lines = render_text(trace, limit=10_000).splitlines()
    for r in trace.contributors.itertuples():
        line = next(x for x in lines if x.startswith(f"{r.unit_code} "))
        status, value = line.split(" | ")[1:3]
        if r.status == STATUS_NOT_REPORTED:
            assert (status, value) == ("未报 / not reported", "—")
        elif r.status == STATUS_REPORTED:
            assert status == "已报 / reported" and value != "—"
    assert "(none)" not in "\n".join(lines)


def test_the_week_traces_to_its_days(demo: Settings) -> None:
    week = parse_period("2020-W05")
    registry = registry_for(demo)
    for code in ("persons_screened", "home_isolation"):  # across_time sum and last
        trace = load_trace(demo.warehouse, "130921", code, week, registry, CAT)
        assert trace.period.type == "week"
        assert trace.re_adds


def test_cli_prints_the_trace_and_exits_zero_when_it_re_adds(demo, monkeypatch, capsys):
    monkeypatch.setenv("HUIZONG_HOME", str(demo.home))
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", demo.warehouse)
    code = main(
        ["trace", "--unit", "130921", "--indicator", "persons_screened", "--period", "2020-01-28"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "沧县" in out and "一致 re-adds" in out and "sha256" in out
    assert "北京时间" in out and "+00:00" not in out  # receipt times as the pages show them
    code = main(["trace", "--unit", "130921", "--indicator", "nope", "--period", "2020-01-28"])
    assert code == 2
    assert "指标代码“nope”不在指标目录中" in capsys.readouterr().err


def test_trace_on_postgresql(tmp_path, pg_url: str) -> None:
    """The bound LIKE prefix and the audit read behave the same on production's database."""
    settings = Settings(home=tmp_path / "var", warehouse_url=pg_url)
    inbox = tmp_path / "inbox" / DAY.isoformat()
    generate_demo_day(DAY, inbox)
    run_day(DAY, settings, inbox)
    registry = registry_for(settings)
    for unit, code in (("130921", "persons_screened"), ("1309", "problems")):
        trace = load_trace(pg_url, unit, code, PERIOD, registry, CAT)
        assert trace.re_adds, (unit, code)
        assert len(trace.contributors) == trace.published.expected_units
