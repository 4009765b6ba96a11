"""Roll-up on small registries built in the test, checked against an independent oracle.

The oracle (``_oracle``) is a plain per-unit loop over the reporters whose code lies in the
unit's subtree (code-prefix filter); it shares no code with ``huizong.rollup``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.divisions import build_registry
from huizong import frames
from huizong.catalogue import parse_catalogue
from huizong.registry import Registry
from huizong.rollup import RollupResult, roll_up
from huizong.schedule import DEFAULT_DEADLINES
from huizong.settings import Settings

DAY = date(2020, 1, 28)
# 2020-01-28 00:00 Asia/Shanghai is 2020-01-27 16:00 UTC; default deadline 24 h later
TOWN = "130902001"
#: A village's default deadline on DAY: 18:00 Beijing time (schedule.DEFAULT_DEADLINES).
DEADLINE_UTC = pd.Timestamp("2020-01-28 10:00", tz="UTC")

# ---- a small division folder -------------------------------------------------------------

TWO_CITIES = {
    "provinces": [("13", "河北省")],
    "cities": [("1309", "沧州市", "13"), ("1310", "廊坊市", "13")],
    "areas": [
        ("130902", "新华区", "1309"),
        ("130903", "运河区", "1309"),
        ("131002", "安次区", "1310"),
    ],
    "streets": [
        ("130902001", "建设北街街道"),
        ("130902002", "车站街道"),
        ("130903001", "水月寺街道"),
        ("131002001", "银河南路街道"),
    ],
    "villages": [
        ("130902001001", "建北社区"),
        ("130902001002", "院东社区"),
        ("130902001003", "北环社区"),
        ("130902002001", "车站社区"),
        ("130902002002", "南湖社区"),
        ("130903001001", "水月寺社区"),
        ("130903001002", "清池社区"),
        ("131002001001", "银河社区"),
        ("131002001002", "光明社区"),
    ],
}
DEPARTMENTS = [
    ("130903D01", "运河区教育局", "130903"),
    ("1309D01", "沧州市卫健委", "1309"),
    ("1310D01", "廊坊市教育局", "1310"),
]


def _indicator(code: str, across: str, dept: str, kind: str = "count") -> dict:
    return {
        "code": code,
        "zh": code + "中",
        "en": code,
        "unit": "个",
        "section": "s",
        "kind": kind,
        "across_units": across,
        "across_time": "sum",
        "department": dept,
    }


CATALOGUE = parse_catalogue(
    {
        "form": "t",
        "title_zh": "测试",
        "title_en": "test",
        "version": 1,
        "section": [{"code": "s", "zh": "节", "en": "s"}],
        "indicator": [
            _indicator("sum_add", "sum", "add"),
            _indicator("sum_beside", "sum", "beside"),
            _indicator("mean_add", "mean", "add"),
            _indicator("max_add", "max", "add"),
            _indicator("min_beside", "min", "beside"),
            _indicator("text_add", "text", "add", "text"),
            _indicator("text_beside", "text", "beside", "text"),
        ],
    }
)
NUMERIC = [i.code for i in CATALOGUE.numeric]
TEXT = [i.code for i in CATALOGUE.text]


@pytest.fixture(scope="module")
def two_cities(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return build_registry(tmp_path_factory.mktemp("two"), TWO_CITIES, DEPARTMENTS)


@pytest.fixture(scope="module")
def one_city(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    spec = {
        "provinces": TWO_CITIES["provinces"],
        "cities": TWO_CITIES["cities"][:1],
        "areas": TWO_CITIES["areas"][:2],
        "streets": TWO_CITIES["streets"][:3],
        "villages": TWO_CITIES["villages"][:7],
    }
    return build_registry(tmp_path_factory.mktemp("one"), spec, DEPARTMENTS[:2])


# ---- accepted rows -------------------------------------------------------------------------


def accepted_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows like the validate step writes: Int64 numbers, str texts, tz-aware UTC arrival."""
    frame = pd.DataFrame(
        {
            "unit_code": pd.Series([r["unit_code"] for r in rows], dtype="str"),
            "period": pd.Series([DAY.isoformat()] * len(rows), dtype="str"),
            "received_at": pd.to_datetime(
                [r.get("received_at", DEADLINE_UTC - pd.Timedelta(hours=3)) for r in rows], utc=True
            ),
            "not_applicable": pd.Series([",".join(r.get("na", [])) for r in rows], dtype="str"),
        }
    )
    if any("file_id" in r for r in rows):
        frame["file_id"] = pd.Series([r.get("file_id", r["unit_code"]) for r in rows], dtype="str")
    for code in NUMERIC:
        frame[code] = pd.array([r.get(code) for r in rows], dtype="Int64")
    for code in TEXT:
        frame[code] = pd.Series([r.get(code) for r in rows], dtype="str")
    return frame


def run(registry: Registry, rows: list[dict], deadlines: dict | None = None) -> RollupResult:
    return roll_up(accepted_frame(rows), DAY, CATALOGUE, registry, Settings(), deadlines)


def cell(result: RollupResult, unit: str, indicator: str) -> pd.Series:
    c = result.consolidated
    hit = c[(c["unit_code"] == unit) & (c["indicator"] == indicator)]
    assert len(hit) == 1, (unit, indicator, len(hit))
    return hit.iloc[0]


def completeness(result: RollupResult, unit: str) -> pd.Series:
    c = result.completeness
    hit = c[c["unit_code"] == unit]
    assert len(hit) == 1
    return hit.iloc[0]


# ---- the independent oracle --------------------------------------------------------------


@dataclass
class Expect:
    value: float | None
    text: str | None
    status: str
    reporting: int
    expected: int


def _oracle(registry: Registry, rows: list[dict]) -> dict[tuple[str, str], Expect]:
    """Per aggregated unit, per indicator, by filtering reporters on code prefix."""
    u = registry.units
    by_code = {r["unit_code"]: r for r in rows}
    reporters = u[(u["level"] == 5) | (u["kind"] == "department")]
    root = registry.root
    out: dict[tuple[str, str], Expect] = {}
    aggregated = u[(u["level"] <= 4) & (u["kind"] != "department") & u["code"].str.startswith(root)]
    deps = u[(u["kind"] == "department") & u["parent_code"].str.startswith(root)]
    for agg in aggregated.itertuples():
        for ind in CATALOGUE.indicators:
            members = []
            for rep in reporters.itertuples():
                if rep.kind == "department":
                    if ind.department != "add" or not str(rep.parent_code).startswith(agg.code):
                        continue
                elif not rep.code.startswith(agg.code):
                    continue
                members.append(rep)
            out[(agg.code, ind.code)] = _expect(ind, members, by_code)
    for dep in deps.itertuples():
        for ind in CATALOGUE.indicators:
            out[(dep.code, ind.code)] = _expect(ind, [dep], by_code)
    return out


def _expect(ind, members, by_code) -> Expect:
    values, lines, marked = [], [], False
    for rep in sorted(members, key=lambda r: r.code):
        row = by_code.get(rep.code)
        if row is None:
            continue
        v = row.get(ind.code)
        if ind.is_numeric and v is not None:
            values.append(v)
        elif not ind.is_numeric and v is not None and v.strip():
            lines.append(f"{rep.name}：{v.strip()}")
        elif ind.code in row.get("na", []):
            marked = True
    given = len(values) + len(lines)
    status = "reported" if given else ("not_applicable" if marked else "not_reported")
    value = None
    if values:
        how = ind.across_units
        value = {
            "sum": sum(values),
            "max": max(values),
            "min": min(values),
            "mean": sum(values) / len(values) if values else None,
        }[how]
    return Expect(value, "\n".join(lines) or None, status, given, len(members))


def assert_matches_oracle(registry: Registry, rows: list[dict], result: RollupResult) -> None:
    expect = _oracle(registry, rows)
    got = result.consolidated
    assert list(got.columns) == frames.CONSOLIDATED_COLUMNS
    assert len(got) == len(expect)
    for row in got.itertuples():
        e = expect[(row.unit_code, row.indicator)]
        where = f"{row.unit_code} {row.indicator}"
        assert row.status == e.status, where
        assert row.reporting_units == e.reporting, where
        assert row.expected_units == e.expected, where
        if e.value is None:
            assert pd.isna(row.value), where
        else:
            assert math.isclose(row.value, e.value, rel_tol=1e-12), (where, row.value, e.value)
        if e.text is None:
            assert pd.isna(row.value_text), where
        else:
            assert row.value_text == e.text, where


# ---- property test -----------------------------------------------------------------------

_cell_numeric = st.one_of(st.none(), st.just("NA"), st.integers(0, 1000))
_cell_text = st.one_of(st.none(), st.just("NA"), st.just(""), st.text("问题建议abc ", max_size=6))


@st.composite
def day_rows(draw, codes: list[str]) -> list[dict]:
    rows = []
    for code in codes:
        if not draw(st.booleans()) and draw(st.booleans()):  # ~25% missing reporters
            continue
        row: dict = {"unit_code": code, "na": []}
        for ind in NUMERIC:
            v = draw(_cell_numeric)
            if v == "NA":
                row["na"].append(ind)
            else:
                row[ind] = v
        for ind in TEXT:
            v = draw(_cell_text)
            if v == "NA":
                row["na"].append(ind)
            else:
                row[ind] = v
        row["received_at"] = DEADLINE_UTC + pd.Timedelta(minutes=draw(st.integers(-120, 120)))
        rows.append(row)
    return rows


def _says_something(row: dict) -> bool:
    """A value (0 included), a non-blank text or a 不适用 mark: otherwise not a report."""
    numbers = any(row.get(c) is not None for c in NUMERIC)
    texts = any(isinstance(row.get(c), str) and row[c].strip() for c in TEXT)
    return numbers or texts or bool(row.get("na"))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_matches_oracle_and_parents_are_sums_of_children(two_cities: Registry, data) -> None:
    reporters = sorted(two_cities.reporters["code"])
    rows = data.draw(day_rows(reporters))
    result = run(two_cities, rows)
    assert_matches_oracle(two_cities, rows, result)

    # additive indicators: every parent = sum of its children (+ departments if "add")
    c = result.consolidated
    u = two_cities.units.set_index("code")
    for ind in ("sum_add", "sum_beside"):
        add = ind == "sum_add"
        vals = c[c["indicator"] == ind].set_index("unit_code")
        for code, row in vals.iterrows():
            if row["kind"] == "department" or row["level"] == 4:
                continue
            kids = u[(u["parent_code"] == code)]
            if not add:
                kids = kids[kids["kind"] != "department"]
            kid_vals = vals.loc[kids.index.intersection(vals.index), "value"]
            expected = kid_vals.sum(min_count=1)
            assert (pd.isna(expected) and pd.isna(row["value"])) or row["value"] == expected, code
            kid_rep = vals.loc[kids.index.intersection(vals.index), "reporting_units"].sum()
            assert row["reporting_units"] == kid_rep

    # completeness against a per-unit count over arrivals that say something
    arrived = {r["unit_code"]: r["received_at"] for r in rows if _says_something(r)}
    for comp in result.completeness.itertuples():
        if comp.kind == "department":
            members = [comp.unit_code]
        else:
            members = [
                r
                for r in reporters
                if r.startswith(comp.unit_code)
                or str(u.loc[r, "parent_code"]).startswith(comp.unit_code)
            ]
        got = [m for m in members if m in arrived]
        on_time = [m for m in got if arrived[m] <= DEADLINE_UTC]
        assert comp.expected_units == len(members)
        assert comp.reported_units == len(got)
        assert comp.missing_units == len(members) - len(got)
        assert comp.on_time_units == len(on_time)
        assert comp.late_units == len(got) - len(on_time)
        assert 0 <= comp.reporting_rate <= 1
    assert set(result.missing["unit_code"]) == set(reporters) - set(arrived)


# ---- specific behaviours -----------------------------------------------------------------


def test_a_row_that_says_nothing_is_not_a_report(two_cities: Registry) -> None:
    """A template returned untouched does not count; a row of zeros (零报告) does."""
    zeros = {code: 0 for code in NUMERIC}
    rows = [
        {"unit_code": "130902001001", **zeros},
        {"unit_code": "130902001002"},  # every indicator blank
        {"unit_code": "130902001003", "text_add": "  "},  # only spaces: still nothing
        {"unit_code": "130902002001", "na": ["sum_add"]},  # a 不适用 mark says something
    ]
    result = run(two_cities, rows)
    assert completeness(result, "130902001")["reported_units"] == 1
    assert completeness(result, "130902002")["reported_units"] == 1
    missing = set(result.missing["unit_code"])
    assert {"130902001002", "130902001003"} <= missing
    assert not {"130902001001", "130902002001"} & missing


def test_blank_zero_and_not_applicable_are_distinct(two_cities: Registry) -> None:
    rows = [
        {"unit_code": "130902001001", "sum_add": 0},  # a real zero
        {"unit_code": "130902001002"},  # blank
        {"unit_code": "130902002001", "na": ["sum_add"]},  # not applicable
        {"unit_code": "130902002002"},
    ]
    result = run(two_cities, rows)
    zero = cell(result, "130902001", "sum_add")
    assert zero["value"] == 0 and zero["status"] == "reported" and zero["reporting_units"] == 1
    na = cell(result, "130902002", "sum_add")
    assert pd.isna(na["value"]) and na["status"] == "not_applicable"
    assert na["reporting_units"] == 0
    blank = cell(result, "130903001", "sum_add")
    assert pd.isna(blank["value"]) and blank["status"] == "not_reported"
    # the county holds a zero and an N/A: the zero wins, the value stays 0 (not blank)
    county = cell(result, "130902", "sum_add")
    assert county["value"] == 0 and county["status"] == "reported"


def test_mean_is_weighted_by_reporting_units(two_cities: Registry) -> None:
    rows = [
        {"unit_code": "130902001001", "mean_add": 10},
        {"unit_code": "130902001002", "mean_add": 20},
        {"unit_code": "130902001003"},  # blank: not in the denominator
        {"unit_code": "130902002001", "mean_add": 60},
    ]
    result = run(two_cities, rows)
    assert cell(result, "130902001", "mean_add")["value"] == 15
    assert cell(result, "130902002", "mean_add")["value"] == 60
    # (10 + 20 + 60) / 3 = 30, not the mean of township means (15 + 60) / 2 = 37.5
    county = cell(result, "130902", "mean_add")
    assert county["value"] == 30 and county["reporting_units"] == 3


def test_max_and_min_and_department_modes(two_cities: Registry) -> None:
    rows = [
        {"unit_code": "130903001001", "max_add": 3, "min_beside": 7, "sum_add": 5, "sum_beside": 5},
        {"unit_code": "130903001002", "max_add": 1, "min_beside": 9, "sum_add": 1, "sum_beside": 1},
        {
            "unit_code": "130903D01",
            "max_add": 8,
            "min_beside": 2,
            "sum_add": 100,
            "sum_beside": 100,
        },
    ]
    result = run(two_cities, rows)
    assert cell(result, "130903001", "max_add")["value"] == 3
    assert cell(result, "130903001", "min_beside")["value"] == 7
    county_max = cell(result, "130903", "max_add")
    assert county_max["value"] == 8  # the department's value counts ("add")
    assert county_max["reporting_units"] == 3 and county_max["expected_units"] == 3
    county_min = cell(result, "130903", "min_beside")
    assert county_min["value"] == 7  # the department's 2 stays beside
    assert county_min["reporting_units"] == 2 and county_min["expected_units"] == 2
    assert cell(result, "130903", "sum_add")["value"] == 106
    assert cell(result, "130903", "sum_beside")["value"] == 6
    assert cell(result, "1309", "sum_add")["value"] == 106
    assert cell(result, "1309", "sum_beside")["value"] == 6
    # the department's own row shows its own figures for every indicator
    own = cell(result, "130903D01", "sum_beside")
    assert own["value"] == 100 and own["kind"] == "department" and own["level"] == 4
    assert own["parent_code"] == "130903" and own["expected_units"] == 1
    assert cell(result, "130903D01", "min_beside")["value"] == 2
    # expected in consolidated excludes departments for "beside" indicators: the city has
    # 7 villages + 2 departments
    assert cell(result, "1309", "sum_add")["expected_units"] == 9
    assert cell(result, "1309", "sum_beside")["expected_units"] == 7
    assert completeness(result, "1309")["expected_units"] == 9


def test_text_is_an_attributed_list_in_code_order(two_cities: Registry) -> None:
    rows = [
        {"unit_code": "130903001002", "text_add": "缺口罩", "text_beside": "乙"},
        {"unit_code": "130903001001", "text_add": " 缺消毒液 ", "text_beside": "甲"},
        {"unit_code": "130903D01", "text_add": "人手不足", "text_beside": "部门"},
        {"unit_code": "130902001001", "text_add": "  "},  # whitespace only = blank
    ]
    result = run(two_cities, rows)
    town = cell(result, "130903001", "text_add")
    assert town["value_text"] == "水月寺社区：缺消毒液\n清池社区：缺口罩"
    assert town["status"] == "reported" and pd.isna(town["value"])
    county = cell(result, "130903", "text_add")
    assert county["value_text"] == "水月寺社区：缺消毒液\n清池社区：缺口罩\n运河区教育局：人手不足"
    assert cell(result, "130903", "text_beside")["value_text"] == "水月寺社区：甲\n清池社区：乙"
    assert cell(result, "130903D01", "text_beside")["value_text"] == "运河区教育局：部门"
    blank = cell(result, "130902001", "text_add")
    assert pd.isna(blank["value_text"]) and blank["status"] == "not_reported"
    numeric = cell(result, "130903001", "sum_add")
    assert pd.isna(numeric["value_text"])


def test_on_time_and_late_around_the_deadline(two_cities: Registry) -> None:
    rows = [
        {"unit_code": "130902001001", "received_at": DEADLINE_UTC},  # exactly on the deadline
        {"unit_code": "130902001002", "received_at": DEADLINE_UTC + pd.Timedelta(seconds=1)},
        {"unit_code": "130902001003", "received_at": DEADLINE_UTC - pd.Timedelta(hours=20)},
    ]
    rows = [{**r, "sum_add": 0} for r in rows]  # zero reports: they count
    town = completeness(run(two_cities, rows), "130902001")
    assert (town["on_time_units"], town["late_units"]) == (2, 1)
    assert (town["expected_units"], town["reported_units"], town["missing_units"]) == (3, 3, 0)
    assert town["reporting_rate"] == 1.0
    # an earlier village deadline (17:00 Beijing time) makes the first two late
    early = completeness(run(two_cities, rows, {**DEFAULT_DEADLINES, "village": time(17)}), TOWN)
    assert (early["on_time_units"], early["late_units"]) == (1, 2)


def test_a_township_batch_is_on_time_by_the_township_deadline(two_cities: Registry) -> None:
    # 19:00 Beijing time: after the villages' 18:00, before the townships' batch 20:00
    at = DEADLINE_UTC + pd.Timedelta(hours=1)
    rows = [
        {"unit_code": "130902001001", "file_id": "batch", "received_at": at, "sum_add": 1},
        {"unit_code": "130902001002", "file_id": "batch", "received_at": at, "sum_add": 1},
        {"unit_code": "130902001003", "file_id": "alone", "received_at": at, "sum_add": 1},
    ]
    town = completeness(run(two_cities, rows), TOWN)
    assert (town["on_time_units"], town["late_units"]) == (2, 1)


def test_reporting_rate_never_exceeds_one(two_cities: Registry) -> None:
    rows = [
        {"unit_code": "130902002001", "sum_add": 1},
        {
            "unit_code": "130902002001",
            "sum_add": 5,  # a duplicate: the later arrival wins
            "received_at": DEADLINE_UTC - pd.Timedelta(hours=1),
        },
        {"unit_code": "130902002002", "sum_add": 2},
        {"unit_code": "999999999999", "sum_add": 1000},  # not in the registry
        {"unit_code": "130902002", "sum_add": 1000},  # a township is not a reporter
    ]
    result = run(two_cities, rows)
    town = completeness(result, "130902002")
    assert town["reported_units"] == 2 and town["reporting_rate"] == 1.0
    assert cell(result, "130902002", "sum_add")["value"] == 7
    assert (result.completeness["reporting_rate"] <= 1).all()
    assert result.completeness["reported_units"].le(result.completeness["expected_units"]).all()


def test_root_scope_one_city_publishes_no_province(one_city: Registry) -> None:
    assert one_city.root == "1309"
    rows = [{"unit_code": "130902001001", "sum_add": 4}, {"unit_code": "1309D01", "sum_add": 1}]
    result = run(one_city, rows)
    published = set(result.consolidated["unit_code"]) | set(result.completeness["unit_code"])
    assert "13" not in published and "000000000000" not in published
    u = one_city.units
    expected_units = set(u.loc[(u["level"] <= 4) & u["code"].str.startswith("1309"), "code"])
    assert set(result.completeness["unit_code"]) == expected_units
    assert cell(result, "1309", "sum_add")["value"] == 5
    comp = completeness(result, "1309")
    assert comp["expected_units"] == 7 + 2 and comp["reported_units"] == 2


def test_two_cities_publish_the_province_but_not_the_nation(two_cities: Registry) -> None:
    assert two_cities.root == "13"
    result = run(two_cities, [{"unit_code": "1310D01", "sum_add": 3, "sum_beside": 4}])
    assert cell(result, "13", "sum_add")["value"] == 3
    assert pd.isna(cell(result, "13", "sum_beside")["value"])
    assert "000000000000" not in set(result.consolidated["unit_code"])


def test_missing_table_and_lists(tmp_path: Path) -> None:
    # one township with 250 villages: the township lists all, the county stops at 200
    spec = {
        "provinces": [("13", "河北省")],
        "cities": [("1309", "沧州市", "13")],
        "areas": [("130902", "新华区", "1309")],
        "streets": [("130902001", "建设北街街道"), ("130902002", "车站街道")],
        "villages": [(f"130902001{n:03d}", f"村{n}") for n in range(1, 251)]
        + [("130902002001", "车站社区")],
    }
    registry = build_registry(tmp_path, spec, [("130902D01", "新华区教育局", "130902")])
    assert registry.root == "130902"
    result = run(
        registry,
        [{"unit_code": "130902001001", "sum_add": 0}, {"unit_code": "130902002001", "sum_add": 0}],
    )
    missing = result.missing
    assert list(missing.columns) == frames.MISSING_COLUMNS
    assert len(missing) == 249 + 1
    dep = missing[missing["unit_code"] == "130902D01"].iloc[0]
    assert dep["kind"] == "department" and pd.isna(dep["township_code"])
    assert dep["county_code"] == "130902"
    town = completeness(result, "130902001")["missing_list"].split("; ")
    assert town == [f"130902001{n:03d} 村{n}" for n in range(2, 251)]
    county = completeness(result, "130902")["missing_list"].split("; ")
    assert len(county) == 201
    assert county[:200] == [f"130902001{n:03d} 村{n}" for n in range(2, 202)]
    assert county[200] == "…等共250个（见 missing 表）"
    assert completeness(result, "130902D01")["missing_list"] == "130902D01 新华区教育局"
    comp = result.completeness
    assert list(comp.columns) == frames.COMPLETENESS_COLUMNS
    assert comp.loc[comp["unit_code"] == "130902", "missing_units"].item() == 250


def test_nothing_accepted_gives_blank_not_zero(two_cities: Registry) -> None:
    result = run(two_cities, [])
    c = result.consolidated
    assert c["value"].isna().all() and (c["status"] == "not_reported").all()
    assert (c["reporting_units"] == 0).all()
    assert (result.completeness["reported_units"] == 0).all()
    assert len(result.missing) == len(two_cities.reporters)


def test_numbers_are_exact_int64_sums(two_cities: Registry) -> None:
    big = 2**40 + 1  # beyond int32 and exact in float64
    rows = [
        {"unit_code": "130902001001", "sum_add": big},
        {"unit_code": "131002001001", "sum_add": big},
    ]
    assert cell(run(two_cities, rows), "13", "sum_add")["value"] == float(2 * big)
    assert np.float64(2 * big) == 2 * big
