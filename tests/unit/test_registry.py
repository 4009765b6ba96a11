"""The org-unit registry built from official division codes and the department config."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pandas as pd
import pytest

from huizong.registry import NATION_CODE, RegistryError, load_divisions, load_registry


def _write(folder: Path, stem: str, header: str, rows: list[str]) -> None:
    text = "\n".join([header, *rows]) + "\n"
    (folder / f"{stem}.csv.gz").write_bytes(gzip.compress(text.encode("utf-8")))


def _two_provinces(folder: Path) -> Path:
    """Beijing (a municipality with the 市辖区 placeholder city) and a slice of Hebei."""
    _write(folder, "provinces", "code,name", ['11,"北京市"', '13,"河北省"'])
    _write(folder, "cities", "code,name,provinceCode", ['1101,"市辖区",11', '1309,"沧州市",13'])
    _write(
        folder,
        "areas",
        "code,name,cityCode,provinceCode",
        ['110101,"东城区",1101,11', '130903,"运河区",1309,13'],
    )
    _write(
        folder,
        "streets",
        "code,name,areaCode,provinceCode,cityCode",
        ['110101001,"东华门街道",110101,11,1101', '130903001,"水月寺街道",130903,13,1309'],
    )
    _write(
        folder,
        "villages",
        "code,name,streetCode,provinceCode,cityCode,areaCode",
        [
            '110101001001,"多福巷社区居委会",110101001,11,1101,110101',
            '130903001001,"御河社区居民委员会",130903001,13,1309,130903',
            '130903001002,"新村村民委员会",130903001,13,1309,130903',
        ],
    )
    return folder


def test_shipped_extract_is_cangzhou() -> None:
    registry = load_registry()
    units = registry.units
    assert registry.root == "1309"
    counts = units.groupby("level").size().to_dict()
    # the numbers from the division README: 19 counties, 209 townships, 6,094 villages;
    # departments sit one level below the county/city they belong to
    official = units[units["kind"] != "department"].groupby("level").size().to_dict()
    assert official == {1: 1, 2: 1, 3: 19, 4: 209, 5: 6094}
    assert counts[3] == 19 + 2 and counts[4] == 209 + 3
    assert units["code"].is_unique
    shuiyuesi = units.set_index("code").loc["130903001"]
    assert shuiyuesi["parent_code"] == "130903" and shuiyuesi["level"] == 4
    assert len(registry.reporters) == 6094 + 5


def test_codes_stay_strings_and_ancestors_are_filled(tmp_path: Path) -> None:
    units = load_divisions(_two_provinces(tmp_path))
    village = units.set_index("code").loc["110101001001"]
    assert (village["province_code"], village["city_code"], village["county_code"]) == (
        "11",
        "1101",
        "110101",
    )
    assert village["township_code"] == "110101001"
    # the placeholder city 市辖区 never appears in a full name
    assert village["full_name"] == "北京市东城区东华门街道多福巷社区居委会"


def test_root_is_the_deepest_common_ancestor(tmp_path: Path) -> None:
    registry = load_registry(_two_provinces(tmp_path))
    assert registry.root == NATION_CODE
    assert (registry.units["code"] == NATION_CODE).sum() == 1


def test_departments_attach_to_present_parents_only(tmp_path: Path) -> None:
    deps = tmp_path / "departments.toml"
    deps.write_text(
        '[[department]]\ncode = "130903D01"\nname = "运河区教育局"\nparent = "130903"\n'
        '[[department]]\ncode = "5001D01"\nname = "重庆某局"\nparent = "5001"\n',
        encoding="utf-8",
    )
    registry = load_registry(_two_provinces(tmp_path), deps)
    dep = registry.units[registry.units["kind"] == "department"]
    assert dep["code"].tolist() == ["130903D01"]
    assert dep["level"].tolist() == [4]
    assert dep["county_code"].tolist() == ["130903"]


def test_department_under_a_township_is_refused(tmp_path: Path) -> None:
    deps = tmp_path / "departments.toml"
    deps.write_text(
        '[[department]]\ncode = "130903001D01"\nname = "某站"\nparent = "130903001"\n',
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match="not a city or county"):
        load_registry(_two_provinces(tmp_path), deps)


def test_dangling_parent_and_bad_codes_are_clear_errors(tmp_path: Path) -> None:
    folder = _two_provinces(tmp_path)
    _write(
        folder,
        "villages",
        "code,name,streetCode,provinceCode,cityCode,areaCode",
        ['130903009001,"孤村村民委员会",130903009,13,1309,130903'],
    )
    with pytest.raises(RegistryError, match=r"130903009001.*parent 130903009 not found"):
        load_divisions(folder)
    _write(folder, "villages", "code,name,streetCode,provinceCode,cityCode,areaCode",
           ['1309030010,"短码",130903001,13,1309,130903'])  # fmt: skip
    with pytest.raises(RegistryError, match="wrong length"):
        load_divisions(folder)


def test_missing_file_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"provinces\.csv"):
        load_divisions(tmp_path)


def test_national_set_when_available() -> None:
    national = Path(__file__).resolve().parents[3] / "shared" / "data" / "divisions"
    if not national.exists():
        message = "../shared/data/divisions is not beside the checkout"
        if os.environ.get("HUIZONG_REQUIRE_SHARED_DATA") == "1":  # CI has it
            pytest.fail(message)
        pytest.skip(message)
    units = load_divisions(national)
    counts = units.groupby("level").size().to_dict()
    assert counts == {1: 31, 2: 342, 3: 2978, 4: 41352, 5: 620573}
    assert pd.api.types.is_string_dtype(units["code"])


def test_names_of_and_level_of_agree_with_the_whole_index():
    registry = load_registry()
    names, levels = registry.names(), registry.units.set_index("code")["level"]
    asked = [*registry.units["code"].iloc[::97], "999999999999", None]
    got = registry.names_of(asked)
    known = [c for c in asked if c in names.index]
    assert got == {c: names[c] for c in known}
    assert all(registry.level_of(c) == levels[c] for c in known)
    assert registry.level_of("999999999999") is None


def test_a_process_reads_the_registry_once_until_its_files_change(tmp_path: Path) -> None:
    """``registry_for``: the steps of one process share one read; an edited departments
    file (same size, same clock tick) is read again; a caller's new column stays its own."""
    import huizong.registry.loaded as loaded
    from huizong.registry import registry_for
    from huizong.settings import Settings

    folder = tmp_path / "divisions"
    folder.mkdir()
    deps = tmp_path / "departments.toml"
    entry = '[[department]]\ncode = "{code}"\nname = "教育局"\nparent = "130903"\n'
    deps.write_text(entry.format(code="130903D01"), encoding="utf-8")
    settings = Settings(divisions=_two_provinces(folder), departments=deps)
    reads = []
    with pytest.MonkeyPatch.context() as patch:  # counts the reads, runs the real one
        real = loaded._read
        patch.setattr(loaded, "_read", lambda s: reads.append(s) or real(s))
        first = registry_for(settings)
        first.units["mine"] = 1
        again = registry_for(settings)
        assert len(reads) == 1 and "mine" not in again.units.columns
        deps.write_text(entry.format(code="130903D02"), encoding="utf-8")
        edited = registry_for(settings)
    assert len(reads) == 2
    assert "130903D02" in set(edited.units["code"]) and "130903D01" not in set(edited.units["code"])
