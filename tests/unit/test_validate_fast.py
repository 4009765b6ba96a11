"""The vectorised pass lists exactly the failures GX lists, and never skips a rule.

Agreement is checked on the whole result of ``validate_rows`` (accepted rows, quarantine
and warnings with their bilingual messages), over random frames: values (blank, zero,
negative, above the hard and the warning bounds), unknown and missing unit codes, wrong
kinds, other days, duplicates and unparseable cells.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huizong.catalogue import load_catalogue
from huizong.registry import load_registry
from huizong.settings import Settings
from huizong.validate import fast
from huizong.validate.rows import _prepared, validate_rows, validation_engine
from huizong.validate.runner import run_suite
from huizong.validate.sample import received_frame
from huizong.validate.suites import import_gx, load_suite_json

DAY = date(2026, 11, 26)
FAST = SimpleNamespace(validation_engine="fast")
GX = SimpleNamespace(validation_engine="gx")
CELL_ERRORS = json.dumps(
    [{"column": "masks_in_stock", "raw": "很多", "zh": "不是数字", "en": "not a number"}],
    ensure_ascii=False,
)


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def units(registry) -> list[str | None]:
    u = registry.units
    villages = u.loc[u["level"] == 5, "code"].head(6).tolist()
    township = u.loc[u["level"] == 4, "code"].iloc[0]
    other_township = u.loc[(u["level"] == 5), "code"].iloc[-1]  # another township's village
    return [*villages, township, other_township, "130999999999", None]


def _agree(received: pd.DataFrame, catalogue, registry) -> None:
    by_fast = validate_rows(received, DAY, catalogue, registry, FAST)
    by_gx = validate_rows(received, DAY, catalogue, registry, GX)
    for part in ("accepted", "quarantine", "warnings"):
        pd.testing.assert_frame_equal(getattr(by_fast, part), getattr(by_gx, part))


#: a few indicators with every kind of bound (min, max, warn_above, pair rules)
CODES = [
    "persons_screened",
    "households_visited",
    "returnees_new",
    "returnees_total",
    "checkpoints",
    "checkpoint_staff",
    "masks_in_stock",
]


@st.composite
def _rows(draw, units: list[str | None], catalogue) -> list[dict]:
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        row: dict = {
            "file_id": draw(st.sampled_from(["a" * 64, "b" * 64])),
            "row_number": i + 2,
            "unit_code": draw(st.sampled_from(units)),
            "period": draw(st.sampled_from(["2026-11-26", "2026-11-26", "2026-11-25", None])),
            "claimed_kind": draw(st.sampled_from(["village", "village", "department"])),
            "cell_errors": draw(st.sampled_from(["", "", "[]", CELL_ERRORS])),
            "disposition": draw(st.sampled_from(["candidate"] * 5 + ["superseded"])),
        }
        for code in draw(st.lists(st.sampled_from(CODES), max_size=4, unique=True)):
            ind = catalogue.indicator(code)
            top = (ind.max or 10**6) + 2
            row[code] = draw(st.one_of(st.none(), st.integers(-3, 3), st.integers(-3, top)))
        if draw(st.booleans()):  # a template with nothing filled in
            row.update({c.code: None for c in catalogue.numeric})
        rows.append(row)
    return rows


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fast_and_gx_agree_on_random_frames(data, catalogue, registry, units):
    rows = data.draw(_rows(units, catalogue))
    _agree(received_frame(catalogue, rows), catalogue, registry)


def test_every_rule_family_is_caught_by_both(catalogue, registry, units):
    """A frame that fails every expectation of the suite at least once (so the agreement
    above is not an agreement on nothing)."""
    v = units
    screened = catalogue.indicator("persons_screened")
    rows = [
        {"unit_code": v[0], "masks_in_stock": -1, "persons_screened": 10**9},
        {"unit_code": v[1], "returnees_new": 5, "returnees_total": 2},
        {"unit_code": v[2], "checkpoints": 5, "checkpoint_staff": 1},
        {"unit_code": v[2], "file_id": "d" * 64, "persons_screened": screened.warn_above + 1},
        {"unit_code": v[7]},  # another township's village in this township's file
        {"unit_code": v[3], "period": "2026-11-25"},
        {"unit_code": v[4], "period": None},
        {"unit_code": v[5], "cell_errors": CELL_ERRORS},
        {"unit_code": v[5]},  # duplicate of the row above
        {"unit_code": v[6]},  # a township reporting as a village
        {"unit_code": v[8]},  # unknown
        {"unit_code": None},
        {"unit_code": v[0], "claimed_kind": "department", "file_id": "b" * 64},
        {"unit_code": v[1], "file_id": "c" * 64, **{c.code: None for c in catalogue.numeric}},
    ]
    received = received_frame(catalogue, rows)
    result = validate_rows(received, DAY, catalogue, registry, FAST)
    rules = set(result.quarantine["rule"]) | set(result.warnings["rule"])
    families = {r.split(":")[0] for r in rules}
    assert families >= {
        "min",
        "max",
        "warn_above",
        "rule",
        "period_is_day",
        "period_present",
        "cell_parse",
        "unique_unit_day",
        "unit_kind",
        "unit_known",
        "unit_code_present",
        "unit_in_file_township",
        "empty_report",
    }, rules
    _agree(received, catalogue, registry)


def _with_extra(data: dict, *extra: dict) -> dict:
    out = copy.deepcopy(data)
    out["expectations"] += list(extra)
    return out


LENGTH_12 = {
    "type": "expect_column_value_lengths_to_equal",
    "kwargs": {"column": "unit_code", "value": 12},
    "meta": {"rule": "unit_code_length", "column": "unit_code"},
    "severity": "critical",
}
MOSTLY_90 = {
    "type": "expect_column_values_to_be_between",
    "kwargs": {"column": "persons_screened", "max_value": 1, "mostly": 0.9},
    "meta": {"rule": "screened_mostly", "column": "persons_screened"},
    "severity": "warning",
}


def test_an_expectation_the_pass_does_not_implement_is_run_by_gx(catalogue, registry):
    """Never silently skipped: an unknown type (or a kwarg the pass does not understand)
    goes to GX, and its failing rows are in the list."""
    frame = _prepared(
        received_frame(
            catalogue,
            [
                {"unit_code": "13090200100"},  # 11 digits: fails the length rule
                {"unit_code": "130902001002", "persons_screened": 5},
                {"unit_code": "130902001003", "persons_screened": 7},
            ],
        ),
        catalogue,
        registry,
    )
    data = _with_extra(load_suite_json(catalogue), LENGTH_12, MOSTLY_90)
    done, for_gx = fast.split_suite(frame, data, DAY)
    assert [e["meta"]["rule"] for e in for_gx] == ["unit_code_length", "screened_mostly"]
    assert len(done) == len(data["expectations"]) - 3  # minus the table check and the two

    failures = fast.run_suite_fast(frame, data, DAY)
    by_gx = run_suite(frame, import_gx().ExpectationSuite(**data), DAY)
    key = ["rule", "file_id", "row_number"]
    assert set(failures["rule"]) >= {"unit_code_length", "screened_mostly"}
    pd.testing.assert_frame_equal(
        failures.sort_values(key).reset_index(drop=True),
        by_gx.sort_values(key).reset_index(drop=True),
    )
    hit = failures[failures["rule"] == "unit_code_length"]
    assert hit["row_number"].tolist() == [2]


@pytest.mark.parametrize(
    "condition",
    [
        {"type": "comparison", "column": {"name": "unit_code"}, "operator": "==", "parameter": 1},
        {"type": "nullity", "column": {"name": "unit_code"}, "is_null": False, "extra": 1},
    ],
)
def test_a_row_condition_it_does_not_know_goes_to_gx(catalogue, registry, condition):
    frame = _prepared(received_frame(catalogue, [{}]), catalogue, registry)
    exp = {**copy.deepcopy(LENGTH_12), "type": "expect_column_values_to_not_be_null"}
    exp["kwargs"] = {"column": "unit_code", "row_condition": condition}
    _, for_gx = fast.split_suite(frame, {"expectations": [exp]}, DAY)
    assert for_gx == [exp]


def test_the_engine_is_a_setting(monkeypatch):
    monkeypatch.setenv("HUIZONG_VALIDATION_ENGINE", "GX")
    assert Settings.from_env().validation_engine == "gx"
    assert validation_engine(None) == "gx"
    monkeypatch.delenv("HUIZONG_VALIDATION_ENGINE")
    assert Settings.from_env().validation_engine == "fast"
    assert validation_engine(None) == "fast"
    monkeypatch.setenv("HUIZONG_VALIDATION_ENGINE", "numpy")
    with pytest.raises(ValueError, match=r"HUIZONG_VALIDATION_ENGINE.*expected one of fast, gx"):
        Settings.from_env()
