"""Identity mistakes in a real inbox, through the real ingest and the real GX suite.

One inbox, one ingest and one validation for the module (GX costs seconds); each test
asserts the exact outcome of one planted case: the rule and the clerk's message.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from huizong.catalogue import load_catalogue
from huizong.ingest import ingest_inbox
from huizong.registry import load_registry
from huizong.settings import Settings
from huizong.validate import account, validate_rows
from huizong.validate.suggest import suggest_unit_codes

CAT = load_catalogue()
DAY = date(2026, 11, 26)
HEADER = "单位代码,单位名称,日期,排查登记人数,入户走访户数,新增返乡人员"
BASE = 1_795_000_000
BATCH = "建设北街街道 日报.csv"  # a township batch of 130902001 建设北街街道


def _csv(inbox: Path, name: str, rows: list[str], at: int) -> None:
    path = inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    os.utime(path, (BASE + at, BASE + at))


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def day_result(tmp_path_factory, registry):
    inbox = tmp_path_factory.mktemp("identity") / "inbox"
    inbox.mkdir()
    d = "2026-11-26"
    _csv(
        inbox,
        BATCH,
        [
            f"130902001001,建北社区居民委员会,{d},1,1,1",  # row 2: duplicated in row 12
            f"130902001002,院东社区居民委员会,{d},1,1,1",
            f"130902001012,站西社区居民委员会,{d},1,1,1",
            f"130902001031,古楼社区居民委员会,{d},1,1,1",  # row 5: 001013 with 1/3 swapped
            f"130902002004,欣怡社区居民委员会,{d},1,1,1",  # row 6: a village of 车站街道
            f"130902001014,北环中路社区居民委员会,{d},1,1,1",
            "130902001015,维康社区居民委员会,2026-11-27,1,1,1",  # row 8: future
            "130902001016,石化新村社区居民委员会,2026-10-01,1,1,1",  # row 9: too old
            "130902001017,颐和博园社区居民委员会,2026-11-25,1,1,1",  # row 10: another day
            f"130902001018,丽水社区居民委员会,{d},1,1,1",
            f"130902001001,建北社区居民委员会,{d},2,2,2",  # row 12: row 2 again
            f"990000000000,无名村,{d},1,1,1",  # row 13: nothing near
        ],
        at=10,
    )
    # the same village in two files that landed at the same instant
    _csv(inbox, "站东社区_a.csv", [f"130902002009,站东社区居民委员会,{d},1,1,1"], at=30)
    _csv(inbox, "站东社区_b.csv", [f"130902002009,站东社区居民委员会,{d},2,2,2"], at=30)
    # the same village twice, an hour apart: the later file wins
    _csv(inbox, "南门里_早.csv", [f"130902002010,南门里社区居民委员会,{d},1,1,1"], at=40)
    _csv(inbox, "南门里_晚.csv", [f"130902002010,南门里社区居民委员会,{d},5,5,5"], at=3640)
    # a county's collection mixing two townships evenly: not a township batch
    _csv(
        inbox,
        "新华区汇总.csv",
        [
            f"130902003001,建新街社区居民委员会,{d},1,1,1",
            f"130902003008,民族路社区居民委员会,{d},1,1,1",
            f"130902002007,沧运社区居民委员会,{d},1,1,1",
            f"130902002008,荷花池社区居民委员会,{d},1,1,1",
        ],
        at=60,
    )
    # two townships' folders, files of the same name, the same village, the same instant
    _csv(inbox, "镇A/日报.csv", [f"130902004001,社区,{d},1,1,1"], at=70)
    _csv(inbox, "镇B/日报.csv", [f"130902004001,社区,{d},2,1,1"], at=70)
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    received, ledger, _ = ingest_inbox(inbox, DAY, CAT, registry, settings)
    result = validate_rows(received, DAY, CAT, registry, settings)
    ledger = account(ledger, received, result)
    return received, ledger, result


def _issues(result, file_name: str) -> dict[tuple[int, str], str]:
    q = result.quarantine[result.quarantine["file_name"] == file_name]
    return {
        (int(r), rule): f"{zh} | {en}"
        for r, rule, zh, en in zip(
            q["row_number"], q["rule"], q["message_zh"], q["message_en"], strict=True
        )
    }


def test_the_batch_quarantines_exactly_the_planted_rows(day_result):
    _, ledger, result = day_result
    assert sorted(_issues(result, BATCH)) == [
        (2, "unique_unit_day"),
        (5, "unit_known"),
        (6, "unit_in_file_township"),
        (8, "period_is_day"),
        (9, "period_is_day"),
        (10, "period_is_day"),
        (12, "unique_unit_day"),
        (13, "unit_known"),
    ]
    led = ledger.set_index("file_name")
    assert led.loc[BATCH, ["rows_received", "rows_accepted", "rows_quarantined"]].tolist() == [
        12,
        4,
        8,
    ]


def test_mistyped_code_suggests_the_unit_named_beside_it(day_result):
    _, _, result = day_result
    assert _issues(result, BATCH)[(5, "unit_known")] == (
        "单位代码 130902001031（古楼社区居民委员会）不在区划代码表中，"
        "是否为 130902001013 古楼社区居民委员会？请核对代码后重报 | "
        "Unit code 130902001031 (古楼社区居民委员会) is not in the division register; "
        "did you mean 130902001013 古楼社区居民委员会? Check the code and resubmit."
    )


def test_unknown_code_with_nothing_near_gets_no_suggestion(day_result):
    _, _, result = day_result
    assert _issues(result, BATCH)[(13, "unit_known")] == (
        "单位代码 990000000000（无名村）不在区划代码表中，请核对代码后重报 | "
        "Unit code 990000000000 (无名村) is not in the division register. "
        "Check the code and resubmit."
    )


def test_village_of_another_township_in_a_township_batch(day_result):
    _, _, result = day_result
    assert _issues(result, BATCH)[(6, "unit_in_file_township")] == (
        "该村不属于本乡镇：130902002004 欣怡社区居民委员会 属于 130902002 车站街道，"
        "而本文件是 130902001 建设北街街道 的报表；请由该村所属乡镇上报，或更正单位代码后重报 | "
        "130902002004 欣怡社区居民委员会 belongs to township 130902002 车站街道, but this "
        "file is the report of township 130902001 建设北街街道: have its own township report "
        "it, or correct the unit code, and resubmit"
    )


def test_a_county_collection_mixing_townships_is_not_judged(day_result):
    _, ledger, result = day_result
    assert _issues(result, "新华区汇总.csv") == {}
    assert ledger.set_index("file_name").loc["新华区汇总.csv", "status"] == "accepted"


def test_duplicate_rows_in_one_file_name_their_rows(day_result):
    _, _, result = day_result
    issues = _issues(result, BATCH)
    expected = (
        "单位 130902001001 在 2026-11-26 有 2 行数据（建设北街街道 日报.csv 第2、12行），"
        "无法确定以哪一行为准，请只保留一行后重报 | "
        "Unit 130902001001 has 2 rows for 2026-11-26 (建设北街街道 日报.csv rows 2, 12): "
        "it is unclear which counts; keep one row and resubmit"
    )
    assert issues[(2, "unique_unit_day")] == expected
    assert issues[(12, "unique_unit_day")] == expected


def test_same_unit_in_two_files_at_the_same_instant_quarantines_both(day_result):
    received, ledger, result = day_result
    expected = (
        "单位 130902002009 在 2026-11-26 有 2 行数据（站东社区_a.csv 第2行；"
        "站东社区_b.csv 第2行），"
        "这些文件的收到时间相同，无法判断哪个更晚，无法确定以哪一行为准，请只保留一行后重报 | "
        "Unit 130902002009 has 2 rows for 2026-11-26 (站东社区_a.csv row 2; 站东社区_b.csv "
        "row 2); the files arrived at the same time, so neither is the later one: it is "
        "unclear which counts; keep one row and resubmit"
    )
    for name in ("站东社区_a.csv", "站东社区_b.csv"):
        assert _issues(result, name) == {(2, "unique_unit_day"): expected}
        assert ledger.set_index("file_name").loc[name, "status"] == "quarantined"
    mine = received[received["unit_code"] == "130902002009"]
    assert mine["disposition"].tolist() == ["candidate", "candidate"]


def test_same_unit_in_two_files_at_different_times_the_later_wins(day_result):
    _, ledger, result = day_result
    led = ledger.set_index("file_name")
    assert led.loc["南门里_早.csv", ["status", "rows_superseded"]].tolist() == ["superseded", 1]
    assert led.loc["南门里_晚.csv", ["status", "rows_accepted"]].tolist() == ["accepted", 1]
    row = result.accepted[result.accepted["unit_code"] == "130902002010"]
    assert row["persons_screened"].tolist() == [5]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            8,
            "报告日期为 2026-11-27，晚于本次汇总的日期 2026-11-26（未来的日期），"
            "不是本次汇总的日期，"
            "请核实日期后重报 | The report date 2026-11-27 is in the future (after the "
            "reporting day 2026-11-26): check the date and resubmit",
        ),
        (
            9,
            "报告日期为 2026-10-01，比本次汇总的日期 2026-11-26 早 56 天"
            "（超过 7 天，可能沿用了旧报表），"
            "不是本次汇总的日期，请改为 2026-11-26 后重报 | The report date 2026-10-01 is 56 "
            "days before the reporting day 2026-11-26 (more than 7; an old sheet sent again?): "
            "change it to 2026-11-26 and resubmit",
        ),
        (
            10,
            "报告日期为 2026-11-25，不是本次汇总的日期 2026-11-26，请核实日期后重报 | "
            "The report date is 2026-11-25, not the reporting day 2026-11-26: check the date "
            "and resubmit",
        ),
    ],
    ids=["future", "too_old", "other_day"],
)
def test_period_messages_say_future_too_old_or_other_day(day_result, row, message):
    _, _, result = day_result
    assert _issues(result, BATCH)[(row, "period_is_day")] == message


def test_too_old_is_configurable(registry, monkeypatch):
    from huizong.validate.sample import received_frame

    frame = received_frame(CAT, [{"unit_code": "130902001001", "period": "2026-11-06"}])
    monkeypatch.setenv("HUIZONG_MAX_PERIOD_AGE_DAYS", "30")
    q = validate_rows(frame, DAY, CAT, registry, None).quarantine
    assert q["message_zh"].tolist() == [
        "报告日期为 2026-11-06，不是本次汇总的日期 2026-11-26，请核实日期后重报"
    ]


@pytest.mark.parametrize(
    ("written", "name", "expected"),
    [
        ("130902001010", "", "130902001001"),  # two digits swapped, same township first
        ("13090200101", "", "130902001001"),  # a digit dropped
        ("１３０９０２００１００１", "", "130902001001"),  # full-width digits
        ("130902999999", "站西社区居民委员会", "130902001012"),  # far off: by name, same county
        ("130903D10", "", "130903D01"),  # a department code, digits swapped
        ("130902001001", "", None),  # known: nothing to suggest
        ("990000000000", "", None),
    ],
)
def test_suggest_unit_codes(registry, written, name, expected):
    got = suggest_unit_codes(pd.Series([written]), registry, pd.Series([name]))
    assert (None if pd.isna(got.iloc[0]) else got.iloc[0]) == expected


def test_same_named_files_in_two_folders_at_the_same_instant(day_result):
    _, ledger, result = day_result
    q = result.quarantine[result.quarantine["unit_code"] == "130902004001"]
    assert q["rule"].tolist() == ["unique_unit_day", "unique_unit_day"]
    assert set(q["message_zh"]) == {
        "单位 130902004001 在 2026-11-26 有 2 行数据（日报.csv 第2行；日报.csv 第2行），"
        "这些文件的收到时间相同，无法判断哪个更晚，无法确定以哪一行为准，请只保留一行后重报"
    }
    led = ledger.set_index("source")
    assert led.loc[["镇A/日报.csv", "镇B/日报.csv"], "status"].tolist() == ["quarantined"] * 2


def test_a_name_without_a_code_gets_the_code_of_that_name_in_the_file_township(
    tmp_path: Path,
) -> None:
    """A township's batch (车站街道) with two rows whose code was left blank: the one
    named like a village of that township is told its code; the other gets the plain
    message. Same text through ``huizong validate`` and the nightly validation."""
    import io

    from huizong.validate.files import validate_files

    d = "2026-11-26"
    _csv(
        tmp_path,
        "车站街道 日报.csv",
        [
            f"130902002004,欣怡社区居民委员会,{d},1,1,1",
            f"130902002007,沧运社区居民委员会,{d},1,1,1",
            f",荷花池社区居民委员会,{d},1,1,1",  # row 4: the code of 130902002008 left out
            f",不存在社区,{d},1,1,1",  # row 5: no unit of that name
        ],
        at=10,
    )
    out = io.StringIO()
    assert (
        validate_files([tmp_path / "车站街道 日报.csv"], DAY, Settings(home=tmp_path / "h"), out)
        == 1
    )
    lines = [line for line in out.getvalue().splitlines() if "第4行" in line or "第5行" in line]
    assert len(lines) == 2, out.getvalue()
    named, unknown = lines
    assert "130902002008 荷花池社区居民委员会" in named and "did you mean 130902002008" in named
    assert "未填写单位代码" in named and "unit code is blank" in named
    assert "未填写单位代码" in unknown and "130902002" not in unknown.split("第5行")[1]


def test_suggest_by_name_outside_a_batch_only_when_the_name_is_unique(registry) -> None:
    from huizong.validate.suggest import suggest_codes_by_name

    units = registry.units[registry.units["level"] == 5]
    counts = units["name"].value_counts()
    unique_name = counts[counts == 1].index[0]
    shared_name = counts[counts > 1].index[0]
    code = units.loc[units["name"] == unique_name, "code"].iloc[0]
    names = pd.Series([f" {unique_name} ", shared_name, "", "不存在社区"], dtype="str")
    no_township = pd.Series(pd.NA, index=names.index, dtype="str")
    got = suggest_codes_by_name(names, no_township, registry)
    assert got.iloc[0] == code
    assert got.iloc[1:].isna().all()
    # within a township, a name shared with other townships is resolved by the township
    dup = units[units["name"].isin(counts[counts > 1].index)].copy()
    dup["township"] = dup["code"].str.slice(0, 9)
    once = dup.drop_duplicates(["township", "name"], keep=False).iloc[0]
    town = pd.Series([once["township"]], dtype="str")
    got = suggest_codes_by_name(pd.Series([once["name"]], dtype="str"), town, registry)
    assert got.iloc[0] == once["code"]
