"""The reader's plain-Python cell handling agrees with the pandas text path it replaced.

Per-file pandas was the cost of a national day (issue 11); the plain versions must give
exactly what ``parse_text`` + NFKC + whitespace removal gave, on any cell calamine or the
CSV reader can hand over.
"""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from huizong.ingest import layout
from huizong.ingest.values import parse_text

_CELLS = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet="0123456789０１２３٣.\u3000 \t\n\x1c\xa0合计D"),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.booleans(),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
)


def _pandas_texts(values: list[object]) -> list[str]:
    text = parse_text(pd.Series(values, dtype=object)).fillna("")
    return text.str.normalize("NFKC").str.replace(r"\s+", "", regex=True).tolist()


@settings(deadline=None)  # a shared 2-core machine: no per-example deadline
@given(st.lists(_CELLS, max_size=20))
def test_cell_texts_agree_with_the_pandas_path(values: list[object]) -> None:
    assert layout._cell_texts(values) == _pandas_texts(values)


def test_cell_texts_edge_cells() -> None:
    values = ["５.0", "12.0", " a\u3000b ", "\x1c12\x1c", None, math.nan, 5.0, 1e20, pd.NA]
    assert layout._cell_texts(values) == _pandas_texts(values)
    assert layout._cell_texts(values)[:2] == ["5", "12"]


@settings(deadline=None)  # a shared 2-core machine: no per-example deadline
@given(
    st.lists(
        st.sampled_from(
            [
                "130902001001",
                "130902001002",
                "130902002001",
                "130902001000",
                "130902001",
                "合计",
                "",
                None,
                130902001003.0,
            ]
        )
    )
)
def test_township_is_the_one_shared_prefix(codes: list[object]) -> None:
    texts = _pandas_texts(codes)
    villages = {t[:9] for t in texts if len(t) == 12 and t.isdigit() and not t.endswith("000")}
    assert layout.township_of(codes) == (villages.pop() if len(villages) == 1 else None)


def test_header_memo_forgets_misses_but_keeps_what_maps(monkeypatch) -> None:
    """A national day joins every data cell with its section: the misses are bounded,
    the labels that map stay remembered (and right) across files."""
    from huizong.catalogue import load_catalogue
    from huizong.ingest import headers

    cat = load_catalogue()
    monkeypatch.setattr(headers, "_MISSES_KEPT", 5)
    matcher = headers._matcher(cat)
    assert headers.field_for("单位代码", cat) == "unit_code"
    for n in range(50):
        assert headers.field_for(f"{n}返乡人员", cat) is None
    assert len(matcher.missed) <= 5
    assert matcher.found["单位代码"] == "unit_code"
    assert headers.field_for("单位代码", cat) == "unit_code"
    assert headers.field_for(["unhashable"], cat) is None


@settings(deadline=None)  # a shared 2-core machine: no per-example deadline
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["f1", "f2", "f3"]),
            st.one_of(st.none(), st.sampled_from(["130902001002", " 130902001001", "", " ", "b"])),
        ),
        max_size=30,
    )
)
def test_unit_lists_per_file_as_one_pass(rows: list[tuple[str, str | None]]) -> None:
    from huizong.ingest.inbox import _unit_lists

    received = pd.DataFrame(
        {
            "file_id": pd.Series([f for f, _ in rows], dtype="str"),
            "unit_code": pd.Series([c for _, c in rows], dtype="str"),
        }
    )
    expected = {
        f: ",".join(sorted({c.strip() for g, c in rows if g == f and c is not None and c.strip()}))
        for f, _ in rows
    }
    got = _unit_lists(received).to_dict()
    assert {f: got.get(f, "") for f in expected} == expected
