"""The indicator catalogue: loads, is self-consistent, and rejects contradictions."""

from __future__ import annotations

import json
import tomllib
from importlib import resources

import pytest

from huizong.catalogue import CatalogueError, load_catalogue, parse_catalogue
from huizong.cli import main


def _raw() -> dict:
    text = resources.files("huizong.catalogue").joinpath("epidemic_daily.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_catalogue_covers_the_seed_report() -> None:
    cat = load_catalogue()
    assert len(cat.numeric) >= 30
    assert {i.code for i in cat.text} == {"problems", "suggestions"}
    assert {s.code for s in cat.sections} >= {
        "screening",
        "isolation",
        "checkpoints",
        "grid",
        "publicity",
        "disinfection",
        "supplies",
        "organisation",
    }
    used = {i.across_units for i in cat.indicators}
    assert used == {"sum", "max", "min", "mean", "text"}
    # cumulative counts and stocks are "last" over time, daily flows are "sum"
    assert cat.indicator("confirmed_total").across_time == "last"
    assert cat.indicator("confirmed_new").across_time == "sum"
    # people the villages already counted are never added again from departments
    assert cat.indicator("persons_screened").department == "beside"


def test_duplicate_labels_are_refused() -> None:
    raw = _raw()
    raw["indicator"][1]["zh"] = raw["indicator"][0]["zh"]
    with pytest.raises(CatalogueError, match="Chinese labels"):
        parse_catalogue(raw)


def test_rule_on_unknown_indicator_is_refused() -> None:
    raw = _raw()
    raw["rule"][0]["right"] = "no_such_indicator"
    with pytest.raises(CatalogueError, match="no_such_indicator"):
        parse_catalogue(raw)


def test_text_aggregation_only_for_text() -> None:
    raw = _raw()
    raw["indicator"][0]["across_units"] = "text"
    with pytest.raises(CatalogueError, match="text"):
        parse_catalogue(raw)


def test_cli_prints_the_catalogue_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalogue", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [i["code"] for i in printed["indicators"]] == list(load_catalogue().codes)
    masks = next(i for i in printed["indicators"] if i["code"] == "masks_in_stock")
    assert masks["zh"] == "口罩库存" and masks["across_time"] == "last"


def test_aliases_of_older_templates_are_headers_too() -> None:
    cat = load_catalogue()
    assert "口罩库存数" in cat.indicator("masks_in_stock").aliases
    raw = _raw()
    raw["indicator"][0]["aliases"] = [raw["indicator"][1]["zh"]]
    with pytest.raises(CatalogueError, match="aliases"):
        parse_catalogue(raw)


def test_pairs_must_be_summed_beside_indicators() -> None:
    assert {p.indicator for p in load_catalogue().pairs} == {
        "confirmed_total",
        "suspected_cases",
        "medical_observation",
    }
    raw = _raw()
    raw["pair"] = [{"department": "卫生健康", "indicator": "leaflets", "geography": "leaflets"}]
    with pytest.raises(CatalogueError, match="already add"):
        parse_catalogue(raw)
