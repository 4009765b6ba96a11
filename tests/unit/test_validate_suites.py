"""The committed suites are exactly what the catalogue generates, and round-trip as JSON."""

from __future__ import annotations

import dataclasses
import json

import pytest

from huizong.catalogue import load_catalogue
from huizong.validate import suites

REGENERATE = 'run: python -c "from huizong.validate.suites import main; main()"'


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def built(catalogue):
    return suites.build_suites(catalogue)


def test_committed_suites_are_up_to_date(built, monkeypatch):
    """Fails when the catalogue changed without `huizong.validate.suites.main()`."""
    monkeypatch.delenv("HUIZONG_EXPECTATIONS", raising=False)
    for suite in built:
        path = suites.suite_file(suites.expectations_dir(), suite.name)
        assert path.exists(), f"{path} missing: {REGENERATE}"
        committed = json.loads(path.read_text(encoding="utf-8"))
        assert committed == suites.suite_json(suite), f"{path} is stale: {REGENERATE}"


def test_a_catalogue_change_changes_the_suite(catalogue, built):
    ind = catalogue.indicator("masks_in_stock")
    changed = dataclasses.replace(
        catalogue,
        indicators=tuple(
            dataclasses.replace(i, max=(i.max or 0) + 1) if i.code == ind.code else i
            for i in catalogue.indicators
        ),
    )
    assert suites.suite_json(suites.build_suites(changed)[0]) != suites.suite_json(built[0])


def test_suite_round_trips_as_json(built):
    from great_expectations import ExpectationSuite

    data = json.loads(suites.dumps(built[0]))
    again = ExpectationSuite(**data)
    assert suites.suite_json(again) == suites.suite_json(built[0])


def test_every_indicator_and_rule_has_a_check_with_rule_code_and_severity(catalogue, built):
    infos = [suites.expectation_info(e.configuration) for e in built[0].expectations]
    rules = {rule: severity for rule, severity, _ in infos}
    for ind in catalogue.numeric:
        assert rules[f"range:{ind.code}"] == "error"
        if ind.warn_above is not None:
            assert rules[f"warn_above:{ind.code}"] == "warning"
    for rule in catalogue.rules:
        assert rules[f"rule:{rule.code}"] == rule.severity
    for rule in (
        "structure",
        "unit_code_present",
        "unit_known",
        "unit_kind",
        "period_present",
        "period_is_day",
        "unique_unit_day",
        "cell_parse",
    ):
        assert rules[rule] == "error"


def test_load_suite_reads_the_folder_and_falls_back_to_the_catalogue(
    catalogue, built, tmp_path, monkeypatch
):
    monkeypatch.setenv("HUIZONG_EXPECTATIONS", str(tmp_path / "absent"))
    assert suites.suite_json(suites.load_suite(catalogue)) == suites.suite_json(built[0])
    data = suites.suite_json(built[0])
    data["expectations"] = data["expectations"][:1]
    (tmp_path / f"{catalogue.form}.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("HUIZONG_EXPECTATIONS", str(tmp_path))
    assert len(suites.load_suite(catalogue).expectations) == 1


def test_write_suites_writes_what_build_suites_builds(catalogue, built, tmp_path):
    (path,) = suites.write_suites(tmp_path, [catalogue])
    assert path.name == f"{catalogue.form}.json"
    assert json.loads(path.read_text(encoding="utf-8")) == suites.suite_json(built[0])
