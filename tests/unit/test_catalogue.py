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


def _resemblance(label: str, other: str, renamed: dict[str, str]) -> float:
    """difflib's ratio over labels as headers are compared (NFKC, no spaces), with the
    form's renamed terms (an older wording of the same thing) written the current way."""
    from difflib import SequenceMatcher

    from huizong.ingest.headers import normalise

    for old, new in renamed.items():
        label = label.replace(old, new)
    return SequenceMatcher(None, normalise(label), normalise(other)).ratio()


def test_every_alias_resembles_its_own_indicator_most() -> None:
    """An alias of older templates must look most like its own indicator's label: 卡口数
    (checkpoints) once mapped to 排查登记人数 (people screened)."""
    cat = load_catalogue()
    renamed = dict(cat.renamed_terms)
    audited = 0
    for ind in cat.indicators:
        for alias in ind.aliases:
            scores = {o.code: _resemblance(alias, o.zh, renamed) for o in cat.indicators}
            best = max(scores.values())
            assert scores[ind.code] == best, (
                alias,
                ind.code,
                sorted(scores.items(), key=lambda kv: -kv[1])[:3],
            )
            assert [c for c, s in scores.items() if s == best] == [ind.code], (alias, scores)
            audited += 1
    assert audited == sum(len(i.aliases) for i in cat.indicators) >= 8


def test_old_checkpoint_header_reads_as_checkpoints() -> None:
    from huizong.ingest.headers import field_for

    cat = load_catalogue()
    assert field_for("卡口数", cat) == "checkpoints"
    assert field_for("卡口数（个）", cat) == "checkpoints"
    assert "卡口数" not in cat.indicator("persons_screened").aliases


def test_an_alias_closer_to_another_indicator_is_refused_at_load() -> None:
    raw = _raw()
    screened = next(i for i in raw["indicator"] if i["code"] == "persons_screened")
    for ind in raw["indicator"]:
        ind.pop("aliases", None)
    screened["aliases"] = ["卡口数"]
    with pytest.raises(CatalogueError, match=r"卡口数.*checkpoints"):
        parse_catalogue(raw)
