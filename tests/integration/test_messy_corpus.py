"""One day assembled from every messy file, through the real pipeline on SQLite.

The inbox holds broken files (empty, HTML, truncated, bomb, oversized, a link, a lock
file, an identical copy), identity mistakes (mistyped code, a village of another township,
duplicate rows, the same unit in two files, future and old dates) and value/layout
oddities (GB18030, BOM, title rows, merged title cells, full-width digits, separators,
units, placeholders, formulas, a hidden sheet, extra columns, a missing column).

Whatever each parser decides about a cell, the books must balance: every row read is
published (``report``), quarantined with a reason, or superseded; the ledger's counts add
up per file and match the warehouse; every file has a ledger row and every refused file
a reason.
"""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from helpers.files import zip_bomb
from huizong import frames
from huizong.pipeline import run_day
from huizong.settings import Settings

DAY = date(2026, 11, 26)
D = DAY.isoformat()
BASE = 1_795_000_000
LABELS = ["单位代码", "单位名称", "日期", "排查登记人数", "入户走访户数", "新增返乡人员"]
KEY = list(frames.ROW_KEY)
MAX_FILE_BYTES = 64 * 1024


def _put(inbox: Path, name: str, data: bytes, at: int) -> None:
    path = inbox / name
    path.write_bytes(data)
    os.utime(path, (BASE + at, BASE + at))


def _csv(rows: list[list[str]], *, header: list[str] = LABELS, encoding: str = "utf-8") -> bytes:
    lines = [",".join(header), *(",".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode(encoding)


def _xlsx(sheets: dict[str, list[list[object]]], *, hidden: tuple[str, ...] = ()) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
        if title in hidden:
            ws.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _village(code: str, name: str, period: str = D, *values: object) -> list[object]:
    return [code, name, period, *(values or ("3", "2", "1"))]


#: file name → data rows it holds (None: the file is refused or a duplicate, no rows)
EXPECTED_ROWS: dict[str, int | None] = {}


def _messy_inbox(inbox: Path, outside: Path) -> None:
    inbox.mkdir(parents=True)
    outside.mkdir(parents=True)
    rows: dict[str, int | None] = {}

    def put(name: str, data: bytes, at: int, n: int | None) -> None:
        _put(inbox, name, data, at)
        rows[name] = n

    # ---- files ----------------------------------------------------------------------
    put("空文件.xlsx", b"", 1, None)
    put(
        "导出 数据.xlsx",
        _csv([_village("130902004001", "甲社区"), _village("130902004004", "乙社区")]),
        2,
        2,
    )
    html = "<html><body><table><tr><td>单位代码</td></tr></table></body></html>"
    put("系统导出.xls", html.encode(), 3, None)
    whole = _xlsx({"日报表": [LABELS, _village("130902004008", "丙社区")]})
    put("下载一半.xlsx", whole[: len(whole) // 2], 4, None)
    put("bomb.xlsx", zip_bomb(), 5, None)
    big = [_village(f"1309020040{i:02d}", "大", D) for i in range(3000)]
    put("太大.csv", _csv(big), 6, None)
    put("~$锁文件.xlsx", b"lock", 7, None)
    put("..%2F..%2Fetc 日报.csv", _csv([_village("130902004009", "丁社区")]), 8, 1)
    put("东环 副本.xlsx", whole, 9, 1)
    put("东环 副本(1).xlsx", whole, 10, None)  # identical bytes: counted once
    (outside / "别的县.csv").write_bytes(_csv([_village("130902004011", "戊社区")]))
    (inbox / "链接.csv").symlink_to(outside / "别的县.csv")
    rows["链接.csv"] = None

    # ---- identity ---------------------------------------------------------------------
    batch = [
        ["建设北街街道疫情防控工作日报表"],
        LABELS,
        _village("130902001001", "建北社区居民委员会"),
        _village("130902001002", "院东社区居民委员会"),
        _village("130902001012", "站西社区居民委员会"),
        _village("130902001031", "古楼社区居民委员会"),  # mistyped 130902001013
        _village("130902002004", "欣怡社区居民委员会"),  # another township's village
        _village("130902001014", "北环中路社区居民委员会", "2026-11-27"),  # future
        _village("130902001015", "维康社区居民委员会", "2026-09-01"),  # too old
        _village("130902001016", "石化新村社区居民委员会"),
        _village("130902001001", "建北社区居民委员会", D, "9", "9", "9"),  # duplicate row
    ]
    put("建设北街街道.xlsx", _xlsx({"日报表": batch}), 20, 9)
    put("站东_a.csv", _csv([_village("130902002009", "站东社区居民委员会")]), 30, 1)
    put("站东_b.csv", _csv([_village("130902002009", "站东社区", D, "4", "2", "1")]), 30, 1)
    put("南门里_早.csv", _csv([_village("130902002010", "南门里社区居民委员会")]), 40, 1)
    put("南门里_晚.csv", _csv([_village("130902002010", "南门里社区", D, "5", "2", "1")]), 4000, 1)
    # a later village correction of one row of the township batch
    put("石化新村_更正.csv", _csv([_village("130902001016", "石化新村", D, "7", "2", "1")]), 50, 1)

    # ---- values and layout (generated here with plain writers) ----------------------
    gbk = [
        _village("130902002007", "沧运社区居民委员会", D, "1,234", "５６", "—"),
        _village("130902002008", "荷花池社区居民委员会", D, "56人", "约50", "☆"),
    ]
    gbk_bytes = _csv([[str(c).replace(",", "，") for c in r] for r in gbk], encoding="gb18030")
    put("车站街道_gbk.csv", gbk_bytes, 60, 2)
    put(
        "南大街_bom.csv",
        b"\xef\xbb\xbf" + _csv([_village("130902003001", "建新街社区居民委员会", D, "十二")]),
        61,
        1,
    )
    layout = [
        ["南大街街道疫情防控工作日报表", None, None, None, None, None, None],
        ["填报日期：2026年11月26日"],
        [*LABELS, "备注"],
        [*_village("130902003008", "民族路社区居民委员会", D, "3-5", "3.5", "-2"), "无"],
        _village("130902003009", "小树林社区居民委员会", "2026/11/26", "=1+2", "0", "/"),
        _village("130902003010", "祁孟庄社区居民委员会", 46352, "无", "空", "0"),
    ]
    second = [LABELS, _village("130902003011", "欣欣家园社区居民委员会", D, "１２３", "4", "5")]
    hidden = [LABELS, _village("130902003012", "泰和社区居民委员会")]
    workbook = _xlsx({"日报表": layout, "补报": second, "旧表": hidden}, hidden=("旧表",))
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    wb["日报表"].merge_cells("A1:G1")
    buf = io.BytesIO()
    wb.save(buf)
    put("南大街_版式.xlsx", buf.getvalue(), 62, 4)
    no_date = _csv(
        [["130902003013", "志强路社区居民委员会", "1", "1", "1"]], header=LABELS[:2] + LABELS[3:]
    )
    put("缺日期列.csv", no_date, 63, None)
    EXPECTED_ROWS.clear()
    EXPECTED_ROWS.update(rows)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    inbox = root / "inbox" / D
    _messy_inbox(inbox, root / "outside")
    settings = Settings(home=root / "home", max_file_bytes=MAX_FILE_BYTES)
    summary = run_day(DAY, settings, inbox)
    engine = sa.create_engine(settings.warehouse)
    with engine.connect() as conn:
        tables = {
            t: pd.read_sql(sa.text(f"SELECT * FROM {t} WHERE period = :p"), conn, params={"p": D})
            for t in ("report", "quarantine", "submission_ledger")
        }
    engine.dispose()
    received = pd.read_parquet(settings.run_dir(DAY) / frames.RECEIVED)
    return root, settings, summary, tables, received


def _keys(frame: pd.DataFrame) -> set[tuple[str, str, int]]:
    sheet = frame["sheet"].fillna("").astype(str)
    return set(
        zip(frame["file_id"].astype(str), sheet, frame["row_number"].astype(int), strict=True)
    )


def test_every_file_has_one_ledger_row_and_refusals_say_why(corpus):
    _, _, _, tables, _ = corpus
    ledger = tables["submission_ledger"].set_index("source")
    assert sorted(ledger.index) == sorted(EXPECTED_ROWS)
    refused = {n for n, r in EXPECTED_ROWS.items() if r is None}
    assert set(ledger.index[ledger["status"].isin(["rejected", "duplicate"])]) == refused
    assert ledger.loc[sorted(refused), "message"].str.len().gt(0).all()
    assert ledger.loc[sorted(refused), "rows_received"].eq(0).all()
    assert ledger.loc["东环 副本(1).xlsx", "status"] == "duplicate"
    assert ledger.loc["空文件.xlsx", "message"].startswith("空文件")
    assert ledger.loc["链接.csv", "message"].startswith("不读取链接文件")
    assert ledger.loc["缺日期列.csv", "message"].startswith("文件缺少必需的列：日期(period)")
    assert "扩展名为.xlsx但内容是CSV" in ledger.loc["导出 数据.xlsx", "message"]


def test_counts_add_up_per_file_and_match_what_was_written(corpus):
    _, _, _, tables, received = corpus
    ledger = tables["submission_ledger"].set_index("source")
    read = {n: r for n, r in EXPECTED_ROWS.items() if r is not None}
    got = ledger.loc[sorted(read)]
    assert got["rows_received"].to_dict() == {n: read[n] for n in sorted(read)}
    balance = got["rows_accepted"] + got["rows_quarantined"] + got["rows_superseded"]
    assert (got["rows_received"] == balance).all()
    # per file, the ledger's counts are what the warehouse holds
    by_id = ledger.reset_index().set_index("file_id")
    report = tables["report"].groupby("file_id").size()
    quarantined = tables["quarantine"].drop_duplicates(KEY).groupby("file_id").size()
    superseded = received[received["disposition"] == "superseded"].groupby("file_id").size()
    for col, counts in (
        ("rows_accepted", report),
        ("rows_quarantined", quarantined),
        ("rows_superseded", superseded),
    ):
        assert (
            counts.reindex(by_id.index, fill_value=0).astype(int).to_dict()
            == by_id[col].astype(int).to_dict()
        ), col


def test_every_row_is_published_quarantined_with_a_reason_or_superseded(corpus):
    _, _, _, tables, received = corpus
    everything = _keys(received)
    published = _keys(tables["report"])
    quarantined = _keys(tables["quarantine"])
    superseded = _keys(received[received["disposition"] == "superseded"])
    assert published | quarantined | superseded == everything
    assert not (published & quarantined) and not (published & superseded)
    assert not (quarantined & superseded)
    q = tables["quarantine"]
    assert q["message_zh"].str.len().gt(0).all() and q["message_en"].str.len().gt(0).all()
    assert len(everything) == sum(r for r in EXPECTED_ROWS.values() if r is not None)


def test_identity_mistakes_are_quarantined_with_the_right_rule(corpus):
    _, _, _, tables, _ = corpus
    q = tables["quarantine"]
    batch = q[q["file_name"] == "建设北街街道.xlsx"]
    assert sorted(zip(batch["row_number"].astype(int), batch["rule"], strict=True)) == [
        (3, "unique_unit_day"),
        (6, "unit_known"),
        (7, "unit_in_file_township"),
        (8, "period_is_day"),
        (9, "period_is_day"),
        (11, "unique_unit_day"),
    ]
    assert (
        "是否为 130902001013 古楼社区居民委员会"
        in batch.loc[batch["rule"] == "unit_known", "message_zh"].iloc[0]
    )
    same = q[q["unit_code"] == "130902002009"]
    assert sorted(same["file_name"]) == ["站东_a.csv", "站东_b.csv"]
    ledger = tables["submission_ledger"].set_index("source")
    assert ledger.loc["南门里_早.csv", "status"] == "superseded"
    assert ledger.loc["建设北街街道.xlsx", "rows_superseded"] == 1  # 石化新村's correction


def test_nothing_was_written_outside_home(corpus):
    root, settings, _, _, _ = corpus
    written = {p for p in root.rglob("*") if p.is_file() and not p.is_symlink()}
    outside = {p.relative_to(root).parts[0] for p in written if not p.is_relative_to(settings.home)}
    assert outside == {"inbox", "outside"}
    stored = sorted(p.name for p in settings.store_dir.iterdir())
    assert all(len(n) == 64 and set(n) <= set("0123456789abcdef") for n in stored)


def test_read_one_file_per_partition_the_ingest_is_the_same(corpus, tmp_path):
    """The partitioned ingest (each file its own partition, read in reverse order) gives
    the messy corpus exactly the RECEIVED and LEDGER of one read: refusals, notes,
    duplicates and supersessions included."""
    from huizong import handover, pipeline
    from huizong.catalogue import load_catalogue
    from huizong.ingest import ingest_inbox
    from huizong.registry import registry_for

    root, _settings, _summary, _tables, _received = corpus
    inbox = root / "inbox" / D
    whole = Settings(home=tmp_path / "whole", max_file_bytes=MAX_FILE_BYTES)
    received, ledger, _ = ingest_inbox(inbox, DAY, load_catalogue(), registry_for(whole), whole)
    parted = Settings(home=tmp_path / "parted", max_file_bytes=MAX_FILE_BYTES, ingest_part_files=1)
    planned = pipeline.ingest_plan_day(DAY, parted, inbox)
    assert len(planned["parts"]) > 5
    for part in reversed(planned["parts"]):
        pipeline.ingest_part_day(DAY, parted, part)
    pipeline.ingest_merge_day(DAY, parted)
    pd.testing.assert_frame_equal(handover.read_frame(parted, DAY, frames.LEDGER), ledger)
    pd.testing.assert_frame_equal(handover.read_frame(parted, DAY, frames.RECEIVED), received)
    assert set(ledger["status"]) >= {"rejected", "duplicate"}
