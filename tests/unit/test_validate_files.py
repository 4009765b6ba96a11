"""`huizong validate FILE...`: real files through the real reader and the real suite."""

from __future__ import annotations

import io
from pathlib import Path

from huizong.catalogue import load_catalogue
from huizong.settings import Settings
from huizong.validate.files import validate_files


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    cat = load_catalogue()
    heads = ["单位代码", "单位名称", "日期", *(f"{i.zh}({i.code})" for i in cat.indicators)]
    lines = [",".join(heads)]
    for row in rows:
        cells = [row.get("unit_code", ""), row.get("unit_name", ""), row.get("period", "")]
        cells += [row.get(i.code, "0" if i.is_numeric else "") for i in cat.indicators]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(paths: list[Path], tmp_path: Path, day=None) -> tuple[int, str]:
    out = io.StringIO()
    rc = validate_files(paths, day, Settings(home=tmp_path / "home"), out)
    return rc, out.getvalue()


def test_problems_are_printed_with_file_row_and_column(tmp_path):
    bad = _csv(
        tmp_path / "bad.csv",
        [
            {
                "unit_code": "130902001001",
                "unit_name": "建北社区居民委员会",
                "period": "2026-11-26",
                "masks_in_stock": "-5",
            },
            {
                "unit_code": "130902001002",
                "unit_name": "院东社区居民委员会",
                "period": "2026-11-26",
            },
        ],
    )
    good = _csv(
        tmp_path / "good.csv",
        [
            {
                "unit_code": "130902001002",
                "unit_name": "院东社区居民委员会",
                "period": "2026-11-26",
                "masks_in_stock": "0",
            },
        ],
    )
    rc, text = _run([bad, good], tmp_path)
    assert rc == 1
    errors = [line for line in text.splitlines() if line.startswith("[错误")]
    assert errors == [
        "[错误 error] 文件 bad.csv / 第2行 / 列 口罩库存(masks_in_stock): "
        "口罩库存 填报为 -5，不能为负数，请核实后重报 | "
        "Masks in stock is -5: it cannot be negative; please correct and resubmit"
    ]
    rc_good, text_good = _run([good], tmp_path)
    assert rc_good == 0 and "[错误" not in text_good


def test_the_day_defaults_to_the_file_and_can_be_given(tmp_path):
    from datetime import date

    f = _csv(
        tmp_path / "d.csv",
        [
            {"unit_code": "130902001001", "period": "2026-11-25"},
            {"unit_code": "130902001002", "period": "2026-11-25"},
        ],
    )
    assert _run([f], tmp_path)[0] == 0
    rc, text = _run([f], tmp_path, day=date(2026, 11, 26))
    assert rc == 1 and text.count("不是本次汇总的日期 2026-11-26") == 2


def test_an_unreadable_file_is_an_error(tmp_path):
    junk = tmp_path / "notes.csv"
    junk.write_text("hello,world\n1,2\n", encoding="utf-8")
    rc, text = _run([junk], tmp_path)
    assert rc == 1 and "notes.csv" in text
