"""``huizong run`` and ``huizong validate`` as an operator uses them, on real files.

Each test builds a home folder in tmp_path, writes the inbox with the same commands a
township uses (``huizong template``, then a script filling it), and runs the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from helpers.divisions import write_division_folder
from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.cli import main
from huizong.demo import manifest_path
from huizong.ingest.values import FORMULA_ZH
from huizong.settings import Settings

DAY = "2020-01-28"
TOWNSHIP = "130903001"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUIZONG_HOME", str(tmp_path / "var"))
    for name in (
        "HUIZONG_DIVISIONS",
        "HUIZONG_DEPARTMENTS",
        "HUIZONG_WAREHOUSE_URL",
        "HUIZONG_INBOX",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "var"


def _township_template(home: Path, out: Path) -> None:
    assert main(["template", "--unit", TOWNSHIP, "--date", DAY, "-o", str(out)]) == 0


def _column(ws, code: str) -> int:
    header = [c.value for c in ws[2]]
    return next(j for j, text in enumerate(header, start=1) if text and f"({code})" in text)


def _run_dir_frame(name: str) -> pd.DataFrame:
    return pd.read_parquet(Settings.from_env().run_dir(pd.Timestamp(DAY).date()) / name)


def test_formula_without_cached_value_same_verdict_in_run_and_validate(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A script writes ``=SUM(1,2)`` (no cached result): both commands refuse the row."""
    inbox = Settings.from_env().inbox_for(pd.Timestamp(DAY).date())
    inbox.mkdir(parents=True)
    path = inbox / "水月寺街道.xlsx"
    _township_template(home, path)
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    ws.cell(row=3, column=_column(ws, "persons_screened"), value="=SUM(1,2)")
    ws.cell(row=3, column=_column(ws, "households_visited"), value=4)
    village = str(ws.cell(row=3, column=1).value)
    wb.save(path)
    capsys.readouterr()

    assert main(["validate", str(path), "--date", DAY]) == 1
    printed = capsys.readouterr().out
    assert FORMULA_ZH in printed and "排查登记人数" in printed

    assert main(["run", "--date", DAY]) == 0
    capsys.readouterr()
    quarantine = _run_dir_frame(frames.QUARANTINE)
    hit = quarantine[quarantine["unit_code"] == village]
    assert FORMULA_ZH in " ".join(hit["message_zh"]), hit
    assert set(hit["column"]) >= {"persons_screened"}
    accepted = _run_dir_frame(frames.ACCEPTED)
    assert village not in set(accepted["unit_code"])
    ledger = _run_dir_frame(frames.ACCOUNTED_LEDGER)
    assert int(ledger["rows_quarantined"].sum()) >= 1


def test_an_empty_row_is_not_a_report_but_a_row_of_zeros_is(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A township returns its template with one village all zeros, one with a value and
    the rest untouched: only two villages reported; the blank rows are accounted as
    accepted (nothing lost), each with an ``empty_report`` warning, and stay missing."""
    inbox = Settings.from_env().inbox_for(pd.Timestamp(DAY).date())
    inbox.mkdir(parents=True)
    path = inbox / "水月寺街道.xlsx"
    _township_template(home, path)
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    for ind in load_catalogue().numeric:
        ws.cell(row=3, column=_column(ws, ind.code), value=0)
    ws.cell(row=4, column=_column(ws, "persons_screened"), value=7)
    villages = [str(ws.cell(row=r, column=1).value) for r in range(3, ws.max_row + 1)]
    wb.save(path)
    assert len(villages) > 3

    assert main(["run", "--date", DAY]) == 0
    capsys.readouterr()
    completeness = _run_dir_frame(frames.COMPLETENESS).set_index("unit_code")
    assert completeness.loc[TOWNSHIP, "reported_units"] == 2
    missing = set(_run_dir_frame(frames.MISSING)["unit_code"])
    assert villages[0] not in missing and villages[1] not in missing
    assert set(villages[2:]) <= missing
    warnings = _run_dir_frame(frames.WARNINGS)
    empty = warnings[warnings["rule"] == "empty_report"]
    assert sorted(empty["unit_code"]) == sorted(villages[2:])
    assert empty["message_zh"].str.contains("没有填写任何").all()
    assert empty["message_en"].str.contains("not count as a report").all()
    ledger = _run_dir_frame(frames.ACCOUNTED_LEDGER)
    assert ledger["rows_received"].sum() == len(villages)
    assert (
        ledger["rows_received"]
        == ledger["rows_accepted"] + ledger["rows_quarantined"] + ledger["rows_superseded"]
    ).all()
    assert ledger["rows_accepted"].sum() == len(villages)


@pytest.mark.parametrize("make_folder", [False, True], ids=["no folder", "empty folder"])
def test_run_refuses_a_day_without_files_unless_asked(
    home: Path, capsys: pytest.CaptureFixture[str], make_folder: bool
) -> None:
    """A typo in a path must not publish a day of 0% reporting; a real empty day can be."""
    inbox = Settings.from_env().inbox_for(pd.Timestamp(DAY).date())
    if make_folder:
        inbox.mkdir(parents=True)
    assert main(["run", "--date", DAY]) != 0
    err = capsys.readouterr().err
    assert str(inbox) in err
    if make_folder:
        assert "没有任何文件" in err and "no files" in err
    else:
        assert "不存在" in err and "does not exist" in err
    assert "--allow-empty" in err
    assert not Settings.from_env().out_dir(pd.Timestamp(DAY).date()).exists()
    assert not (home / "warehouse.sqlite").exists()

    assert main(["run", "--date", DAY, "--allow-empty"]) == 0
    capsys.readouterr()
    completeness = _run_dir_frame(frames.COMPLETENESS).set_index("unit_code")
    assert completeness.loc["1309", "reported_units"] == 0
    assert (home / "warehouse.sqlite").exists()


def _langfang(townships: int, villages: int) -> dict:
    """廊坊市 (not the shipped 沧州市): two districts, ``townships`` streets each."""
    areas = [("131002", "安次区", "1310"), ("131003", "广阳区", "1310")]
    streets = [
        (f"{a}{t:03d}", f"{name}第{t}街道") for a, name, _ in areas for t in range(1, townships + 1)
    ]
    return {
        "provinces": [("13", "河北省")],
        "cities": [("1310", "廊坊市", "13")],
        "areas": areas,
        "streets": streets,
        "villages": [
            (f"{s}{v:03d}", f"{name}第{v}社区")
            for s, name in streets
            for v in range(1, villages + 1)
        ],
    }


def test_demo_data_generates_for_the_loaded_registry(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After loading 廊坊市, the demo day is 廊坊市's: only the planted typo is unknown."""
    folder = write_division_folder(tmp_path / "langfang", _langfang(5, 6), [])
    assert (
        main(["registry", "load", str(folder), "--departments", str(folder / "departments.toml")])
        == 0
    )
    assert main(["demo-data", "--date", DAY]) == 0
    assert "1310" in capsys.readouterr().out
    inbox = Settings.from_env().inbox_for(pd.Timestamp(DAY).date())
    manifest = json.loads(manifest_path(inbox).read_text(encoding="utf-8"))
    assert manifest["root"] == "1310"
    assert all(code.startswith("1310") for code in manifest["villages_in_files"])
    assert main(["run", "--date", DAY]) == 0
    capsys.readouterr()
    quarantine = _run_dir_frame(frames.QUARANTINE)
    assert (quarantine["rule"] == "unit_known").sum() == 1  # the planted mistyped code
    completeness = _run_dir_frame(frames.COMPLETENESS).set_index("unit_code")
    assert completeness.loc["1310", "reported_units"] > 0.8 * 60


def test_demo_data_refuses_a_registry_too_small_for_its_mistakes(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_division_folder(tmp_path / "tiny", _langfang(1, 2), [])
    assert (
        main(["registry", "load", str(folder), "--departments", str(folder / "departments.toml")])
        == 0
    )
    capsys.readouterr()
    assert main(["demo-data", "--date", DAY]) == 2
    err = capsys.readouterr().err
    assert "1310" in err and "演示" in err and "demo" in err
    assert not Settings.from_env().inbox_for(pd.Timestamp(DAY).date()).exists()
