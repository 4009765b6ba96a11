"""Every rule a steward can meet has a plain label in both languages, never its code."""

from __future__ import annotations

from huizong.catalogue import load_catalogue
from huizong.review.labels import WHOLE_ROW, rule_label


def test_every_catalogue_rule_reads_as_words() -> None:
    cat = load_catalogue("epidemic_daily")
    codes = [f"{p}:{i.code}" for i in cat.numeric for p in ("min", "max", "warn_above")]
    codes += [f"rule:{r.code}" for r in cat.rules] + list(WHOLE_ROW)
    for code in codes:
        zh, en = rule_label(code, cat)
        assert code not in (zh, en) and ":" not in zh, code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), code
    masks = next(i for i in cat.numeric if i.code == "masks_in_stock")
    assert rule_label("min:masks_in_stock", cat) == (
        f"{masks.zh}小于最小值",
        f"{masks.en} below the minimum",
    )
    assert rule_label("something_new", cat) == ("something_new", "something_new")


def test_a_waived_rule_reads_as_words() -> None:
    """Trial: ``waived:rule:...`` was shown 3× without a Chinese label."""
    cat = load_catalogue("epidemic_daily")
    for r in cat.rules:
        zh, en = rule_label(f"waived:rule:{r.code}", cat)
        assert zh == f"已豁免：{r.zh}" and en == f"waived: {r.en}"


def test_review_tables_name_fields_in_chinese_and_right_align_values() -> None:
    """Trial: the quarantine table showed ``screened`` and left-aligned numbers."""
    import pandas as pd

    from huizong.review.views import field_cell

    cat = load_catalogue("epidemic_daily")
    ind = cat.numeric[0]
    cell = field_cell(cat)
    html = cell(pd.Series({"column": ind.code}))
    assert html.startswith(ind.zh) and f'<code class="note">{ind.code}</code>' in html
    assert cell(pd.Series({"column": ""})) == ""
