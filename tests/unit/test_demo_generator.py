"""The demo day: deterministic, realistic, and every planted mistake exactly where the
manifest says. Files are read back independently of the pipeline's reader (calamine for
xlsx, the csv module for the GB18030 file)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from huizong.catalogue import load_catalogue
from huizong.demo import (
    demo_day_default,
    demo_manifest,
    demo_mistakes,
    generate_demo_day,
    manifest_path,
)
from huizong.demo.values import PROBLEMS, SUGGESTIONS
from huizong.registry import load_registry
from huizong.schedule import DEFAULT_DEADLINES

DAY = date(2020, 1, 28)
TZ = ZoneInfo("Asia/Shanghai")
CAT = load_catalogue()
OPS = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal, ">": np.greater}


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def day(tmp_path_factory, registry):
    inbox = tmp_path_factory.mktemp("a") / DAY.isoformat()
    written = generate_demo_day(DAY, inbox, registry=registry, catalogue=CAT)
    manifest = json.loads(manifest_path(inbox).read_text(encoding="utf-8"))
    return inbox, written, manifest


def _field(header: object, style: str) -> str:
    text = str(header)
    if style == "code":
        return text
    if style == "zh_code":
        return text[text.rindex("(") + 1 : -1]
    zh = {"单位代码": "unit_code", "单位名称": "unit_name", "日期": "period"}
    zh.update({i.zh: i.code for i in CAT.indicators})
    return zh[text]


def _read(path: Path, entry: dict) -> pd.DataFrame:
    """Data rows of one generated file, columns named by field, cells as written."""
    if entry["format"] == "csv":
        raw = path.read_bytes()
        rows = list(csv.reader(io.StringIO(raw.decode("gb18030"))))
    else:
        wb = CalamineWorkbook.from_path(str(path))
        rows = wb.get_sheet_by_name(wb.sheet_names[0]).to_python(skip_empty_area=False)
    header = rows[entry["header_row"] - 1]
    data = rows[entry["header_row"] :]
    frame = pd.DataFrame(data, columns=[_field(h, entry["header_style"]) for h in header])
    frame = frame.astype(object)
    frame.insert(
        0, "row_number", range(entry["header_row"] + 1, entry["header_row"] + 1 + len(data))
    )
    frame.insert(0, "file", entry["name"])
    return frame


@pytest.fixture(scope="module")
def rows(day) -> pd.DataFrame:
    inbox, _, manifest = day
    frames = [_read(inbox / e["name"], e) for e in manifest["files"] if e["copy_of"] is None]
    return pd.concat(frames, ignore_index=True)


def _numeric(series: pd.Series) -> pd.Series:
    """Cells → float (blank and 不适用 → NaN); every non-blank cell must be a number or 不适用."""
    s = series.map(lambda v: np.nan if v in ("", None, "不适用") else v)
    return pd.to_numeric(s, errors="raise").astype("float64")


def test_same_seed_same_bytes_and_mtimes(day, tmp_path, registry):
    inbox, written, _ = day
    start = time.perf_counter()
    again = generate_demo_day(DAY, tmp_path / "b", registry=registry, catalogue=CAT)
    assert time.perf_counter() - start < 20  # a few seconds on a quiet 2-core machine
    assert [p.name for p in again] == [p.name for p in written]
    for a, b in zip(written, again, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
        assert a.stat().st_mtime_ns == b.stat().st_mtime_ns, a.name
    assert manifest_path(tmp_path / "b").read_bytes() == manifest_path(inbox).read_bytes()


def test_another_seed_gives_another_day(day, registry):
    _, _, manifest = day
    other = demo_manifest(DAY, 7, registry=registry, catalogue=CAT)
    assert other["missing_townships"] != manifest["missing_townships"]
    assert demo_mistakes(DAY, registry=registry, catalogue=CAT) == manifest["mistakes"]


def test_demo_day_default_is_the_seed_report_date():
    assert demo_day_default() == date(2020, 1, 28)


def test_files_written_are_exactly_the_inbox_and_manifest_is_outside(day):
    inbox, written, manifest = day
    assert sorted(p.name for p in inbox.iterdir()) == sorted(p.name for p in written)
    assert sorted(p.name for p in written) == sorted(e["name"] for e in manifest["files"])
    assert not manifest_path(inbox).is_relative_to(inbox)


def test_file_counts_and_coverage(day, rows, registry):
    _, written, manifest = day
    units = registry.units
    villages = units[units["level"] == 5]
    townships = units[(units["level"] == 4) & units["code"].isin(villages["parent_code"])]
    kinds = pd.Series([e["kind"] for e in manifest["files"]]).value_counts()
    missing = manifest["missing_townships"]
    assert 0.03 * len(townships) <= len(missing) <= 0.08 * len(townships)
    assert kinds["township"] == len(townships) - len(missing)
    assert kinds["village"] == 5
    assert kinds["department"] == len(units[units["kind"] == "department"]) == 5
    assert kinds["duplicate"] == 1
    assert len(written) == len(townships) - len(missing) + 5 + 5 + 1

    codes = rows["unit_code"].astype(str)
    # no row for any village of a township that did not report
    assert not codes.str.slice(0, 9).isin(missing).any()
    in_files = set(codes[codes.isin(villages["code"])])
    assert in_files == set(manifest["villages_in_files"])
    left_out = set(manifest["left_out_villages"])
    assert not (left_out & in_files)
    reporting = villages[~villages["parent_code"].isin(missing)]
    assert 0.01 * len(reporting) <= len(left_out) <= 0.035 * len(reporting)
    (typo,) = [m for m in manifest["mistakes"] if m["kind"] == "mistyped_code"]
    expected = set(reporting["code"]) - left_out - {typo["true_code"]}
    assert in_files == expected


def test_received_times(day):
    inbox, _, manifest = day
    # the default deadlines of each level (the receipt's and the night's): 18:00 for a
    # village's or department's own file, 20:00 for a township's batch (or its copy)
    deadlines = {k: datetime.combine(DAY, t, tzinfo=TZ) for k, t in DEFAULT_DEADLINES.items()}
    assert manifest["deadlines"] == {k: v.isoformat() for k, v in deadlines.items()}
    midnight = datetime.combine(DAY + timedelta(days=1), datetime.min.time(), tzinfo=TZ)
    for e in manifest["files"]:
        got = datetime.fromtimestamp((inbox / e["name"]).stat().st_mtime, TZ)
        assert got == datetime.fromisoformat(e["received_at"]), e["name"]
        deadline = deadlines.get(e["kind"], deadlines["township"])
        assert e["late"] == (got > deadline)
        if e["kind"] == "township" and not e["late"]:
            assert got.date() == DAY and 15 <= got.hour < 20, e["name"]
        if e["late"]:
            assert midnight < got < midnight + timedelta(hours=3)
    late = [e for e in manifest["files"] if e["late"]]
    assert 1 <= len(late) <= 0.1 * len(manifest["files"])


def _mistake(manifest: dict, kind: str) -> dict:
    (m,) = [m for m in manifest["mistakes"] if m["kind"] == kind]
    return m


def _at(rows: pd.DataFrame, file: str, row_number: int) -> pd.Series:
    hit = rows[(rows["file"] == file) & (rows["row_number"] == row_number)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_negative_count(day, rows):
    m = _mistake(day[2], "negative_count")
    row = _at(rows, m["file"], m["row_number"])
    assert row["unit_code"] == m["unit_code"] and row["masks_in_stock"] == -5 == m["value"]
    assert (_numeric(rows["masks_in_stock"]) < 0).sum() == 1


def test_mistyped_code(day, rows, registry):
    m = _mistake(day[2], "mistyped_code")
    row = _at(rows, m["file"], m["row_number"])
    wrong, true = row["unit_code"], m["true_code"]
    assert wrong == m["unit_code"] and wrong not in set(registry.units["code"])
    assert (
        sorted(wrong) == sorted(true) and sum(a != b for a, b in zip(wrong, true, strict=True)) == 2
    )
    assert (rows["unit_code"] == true).sum() == 0
    known = set(registry.units["code"])
    assert set(rows["unit_code"]) - known == {wrong}


def test_duplicate_row(day, rows):
    m = _mistake(day[2], "duplicate_row")
    dup = rows[(rows["file"] == m["file"]) & (rows["unit_code"] == m["unit_code"])]
    assert dup["row_number"].tolist() == m["row_numbers"]
    assert dup["masks_distributed"].tolist() == m["values"] and len(set(m["values"])) == 2
    per_file = rows.groupby(["file", "unit_code"]).size()
    assert (per_file > 1).sum() == 1


def test_gb18030_csv_with_code_headers(day, registry):
    inbox, _, manifest = day
    m = _mistake(manifest, "gb18030_csv")
    raw = (inbox / m["file"]).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    lines = raw.decode("gb18030").splitlines()
    assert lines[0].split(",")[:4] == ["unit_code", "unit_name", "period", CAT.codes[0]]
    name = registry.names()[m["unit_code"]]
    assert lines[1].startswith(f"{m['unit_code']},{name},{DAY.isoformat()},")
    assert any(ord(ch) > 127 for ch in name)  # so the encoding matters
    assert [e["format"] for e in manifest["files"]].count("csv") == 1


def test_revision_supersedes_one_village_of_its_batch(day, rows):
    inbox, _, manifest = day
    m = _mistake(manifest, "revision")
    old = _at(rows, m["supersedes"], m["row_number"])
    (new,) = rows[rows["file"] == m["file"]].itertuples()
    assert old["unit_code"] == new.unit_code == m["unit_code"]
    assert old[m["column"]] == m["old"] != m["new"] == getattr(new, m["column"])
    revision_mtime = (inbox / m["file"]).stat().st_mtime
    assert revision_mtime > (inbox / m["supersedes"]).stat().st_mtime
    assert (rows["unit_code"] == m["unit_code"]).sum() == 2


def test_cross_field_violation(day, rows):
    m = _mistake(day[2], "cross_field")
    row = _at(rows, m["file"], m["row_number"])
    assert row["unit_code"] == m["unit_code"]
    assert row["returnees_new"] == m["values"]["returnees_new"]
    assert row["returnees_total"] == m["values"]["returnees_total"]
    assert row["returnees_new"] > row["returnees_total"]


def test_exact_duplicate_file(day):
    inbox, _, manifest = day
    m = _mistake(manifest, "duplicate_file")
    copy, orig = inbox / m["file"], inbox / m["copy_of"]
    assert copy.read_bytes() == orig.read_bytes()
    assert copy.stat().st_mtime > orig.stat().st_mtime
    digests = pd.Series([p.read_bytes() for p in inbox.iterdir()])
    assert digests.duplicated().sum() == 1


def _clean(rows: pd.DataFrame, manifest: dict) -> pd.DataFrame:
    bad = {
        (m["file"], m["row_number"])
        for m in manifest["mistakes"]
        if m["kind"] in ("negative_count", "cross_field")
    }
    keep = [(f, r) not in bad for f, r in zip(rows["file"], rows["row_number"], strict=True)]
    return rows[keep]


def test_clean_rows_respect_bounds_and_error_rules(day, rows):
    clean = _clean(rows, day[2])
    assert len(clean) == len(rows) - 2
    for ind in CAT.numeric:
        values = _numeric(clean[ind.code])
        assert (values.dropna() >= ind.min).all(), ind.code
        assert (values.dropna() == values.dropna().round()).all(), ind.code
        if ind.max is not None:
            assert (values.dropna() <= ind.max).all(), ind.code
        if ind.warn_above is not None:
            assert (values > ind.warn_above).mean() < 0.01, ind.code
    for rule in CAT.rules:
        if rule.severity != "error":
            continue
        left, right = _numeric(clean[rule.left]), _numeric(clean[rule.right])
        both = left.notna() & right.notna()
        assert OPS[rule.op](left[both], right[both]).all(), rule.code
        assert both.mean() > 0.9
    risk = _numeric(clean["risk_level"]).dropna()
    assert set(risk.unique()) <= {1, 2, 3} and (risk == 1).mean() > 0.7
    rate = _numeric(clean["followup_rate"]).dropna()
    assert rate.between(60, 100).all()
    other, total = (
        _numeric(clean["returnees_other_province_total"]),
        _numeric(clean["returnees_total"]),
    )
    both = other.notna() & total.notna()
    assert (other[both] <= total[both]).all()


def test_case_counts_are_mostly_zero_and_blanks_are_rare(day, rows):
    villages = rows[rows["unit_code"].str.len() == 12]
    for code, low in (("suspected_cases", 0.94), ("confirmed_new", 0.97)):
        values = _numeric(villages[code]).dropna()
        assert low <= (values == 0).mean() < 1.0, code
    cells = villages[[i.code for i in CAT.numeric]]
    blank = cells.isin(["", None]) | cells.isna()
    assert 0.02 <= blank.to_numpy().mean() <= 0.04
    na = (cells == "不适用").to_numpy().sum()
    assert 1 <= na <= 30
    problems = villages["problems"][~villages["problems"].isin(["", None])]
    assert 0.03 <= len(problems) / len(villages) <= 0.15
    phrases = set(PROBLEMS)
    assert all(set(p.split("；")) <= phrases for p in problems)
    suggestions = villages["suggestions"][~villages["suggestions"].isin(["", None])]
    assert len(suggestions) and all(set(s.split("；")) <= set(SUGGESTIONS) for s in suggestions)


def test_township_layout(day):
    inbox, _, manifest = day
    entry = next(e for e in manifest["files"] if e["kind"] == "township")
    wb = CalamineWorkbook.from_path(str(inbox / entry["name"]))
    sheet = wb.get_sheet_by_name(wb.sheet_names[0]).to_python(skip_empty_area=False)
    assert sheet[0][0].endswith("疫情防控工作日报表")
    assert sheet[1][0] == f"填报日期：{DAY.isoformat()}"
    assert sheet[2][:3] == ["单位代码", "单位名称", "日期"]
    assert len(sheet) - 3 == entry["rows"]
    assert all(str(r[0]).startswith(entry["unit_code"]) for r in sheet[3:])


def test_cumulative_counts_never_go_down_around_the_demo_day(registry):
    """Days before and after the demo day: every village's cumulative counts are
    non-decreasing day by day, and the day's flows never exceed them (error rules)."""
    from huizong.demo.day import _rng, _village_values, carry_cumulative

    catalogue = load_catalogue()
    villages = registry.units[registry.units["level"] == 5].sort_values("code")
    villages = villages.reset_index(drop=True)
    anchor = date(2020, 1, 28)
    days = [anchor + timedelta(days=k) for k in range(-3, 4)]
    by_day = []
    for day in days:
        values = _village_values(_rng(day, 20200128), villages, catalogue)
        by_day.append(carry_cumulative(values, day, 20200128, villages, catalogue))
    cumulative = [
        "returnees_total",
        "returnees_key_area_total",
        "returnees_other_province_total",
        "isolation_released_total",
        "confirmed_total",
    ]
    for before, after in itertools.pairwise(by_day):
        for code in cumulative:
            assert (after[code] >= before[code]).all(), code
    for v in by_day:
        assert (v["returnees_new"] <= v["returnees_total"]).all()
        assert (v["returnees_key_area_total"] <= v["returnees_total"]).all()
        assert (v["confirmed_new"] <= v["confirmed_total"]).all()
    # growth is real, not a frozen copy of the demo day
    assert (by_day[-1]["returnees_total"] > by_day[3]["returnees_total"]).any()
