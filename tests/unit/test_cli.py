"""The ``huizong`` command line: registry loading and templates, as a clerk would use them."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from huizong.cli import main
from huizong.pipeline import registry_for
from huizong.registry import shipped_extract
from huizong.settings import Settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUIZONG_HOME", str(tmp_path / "var"))
    for name in ("HUIZONG_DIVISIONS", "HUIZONG_DEPARTMENTS", "HUIZONG_WAREHOUSE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "var"


def test_registry_load_is_used_by_later_runs(home: Path, capsys) -> None:
    assert main(["registry", "load", str(shipped_extract())]) == 0
    assert "root 1309" in capsys.readouterr().out
    saved = Settings.from_env().loaded_registry
    assert saved.exists()
    registry = registry_for(Settings.from_env())
    assert registry.root == "1309"
    assert (registry.units["level"] == 5).sum() == 6094


def test_registry_load_of_a_bad_folder_exits_2(home: Path, tmp_path: Path, capsys) -> None:
    assert main(["registry", "load", str(tmp_path / "nowhere")]) == 2
    assert "provinces.csv" in capsys.readouterr().err


def test_template_for_a_township_lists_its_villages(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "水月寺街道.xlsx"
    assert main(["template", "--unit", "130903001", "--date", "2020-01-28", "-o", str(out)]) == 0
    workbook = CalamineWorkbook.from_path(str(out))
    rows = workbook.get_sheet_by_name(workbook.sheet_names[0]).to_python()
    codes = [str(r[0]) for r in rows if str(r[0]).startswith("130903001") and len(str(r[0])) == 12]
    registry = registry_for(Settings.from_env())
    expected = registry.units[registry.units["township_code"] == "130903001"]
    assert sorted(codes) == sorted(expected.loc[expected["level"] == 5, "code"])


def test_bad_date_is_a_usage_error(home: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--date", "2020-02-30"])
    assert exited.value.code == 2


def test_review_scopes_round_trip(home: Path, capsys) -> None:
    assert main(["review", "assign", "steward_a", "130903", "130902001"]) == 0
    capsys.readouterr()
    assert main(["review", "scopes", "steward_a"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["130902001\tsteward", "130903\tsteward"]  # each unit with its role
    assert main(["review", "revoke", "steward_a", "130903"]) == 0
    capsys.readouterr()
    assert main(["review", "scopes", "steward_a"]) == 0
    assert capsys.readouterr().out.split() == ["130902001", "steward"]
    assert main(["review", "assign", "steward_a", "99999"]) == 2
