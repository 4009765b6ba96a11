"""The ``huizong`` command line: registry loading and templates, as a clerk would use them."""

from __future__ import annotations

import os
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


_PROBE = (
    "import sys\n"
    "from huizong import cli\n"
    "code = cli.main(sys.argv[1:])\n"
    "print('AIRFLOW' if 'airflow' in sys.modules else 'NO-AIRFLOW', code)\n"
)


def _probe(tmp_path: Path, argv: list[str], **extra: str) -> str:
    """Run a CLI command in a fresh interpreter with a clean environment (no Airflow
    settings, a home without ``airflow/``) and say whether Airflow got imported."""
    import subprocess
    import sys

    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path / "home"),
        "HUIZONG_HOME": str(tmp_path / "var"),
        **extra,
    }
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "argv", [["review", "scopes", "nobody"], ["catalogue"]], ids=["review-scopes", "catalogue"]
)
def test_cli_without_a_warehouse_url_or_airflow_does_not_import_airflow(
    tmp_path: Path, argv: list[str]
) -> None:
    (tmp_path / "home").mkdir()
    assert _probe(tmp_path, argv) == "NO-AIRFLOW 0"
    assert not (tmp_path / "home" / "airflow").exists()  # nor did Airflow make its home


def test_cli_with_an_airflow_home_still_reads_the_airflow_connection(tmp_path: Path) -> None:
    """The other side: where Airflow is deployed, its connection is still consulted."""
    (tmp_path / "home").mkdir()
    url = f"sqlite:///{tmp_path / 'conn' / 'warehouse.sqlite'}"
    (tmp_path / "conn").mkdir()
    out = _probe(
        tmp_path,
        ["review", "assign", "alice", "1309"],
        AIRFLOW_HOME=str(tmp_path / "airflow"),
        AIRFLOW_CONN_HUIZONG_WAREHOUSE=url,
    )
    assert out == "AIRFLOW 0"
    assert (tmp_path / "conn" / "warehouse.sqlite").is_file()  # the connection's warehouse
