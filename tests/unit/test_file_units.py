"""Which units a file without rows belongs to, for the stewards' scopes."""

from __future__ import annotations

import pandas as pd

from huizong.review.queries import file_units


def test_files_without_rows_are_scoped_by_what_is_known_of_them() -> None:
    frame = pd.DataFrame(
        {
            "file_id": ["a", "b", "c", "d", "e"],
            "file_name": [
                "130982102_吕公堡镇_日报.xlsx",
                "130982102_吕公堡镇_日报(1).xlsx",
                "报表.xlsx",
                "130921_沧县卫健局.xlsx",
                "未知.xlsx",
            ],
            "units": ["130982102001,130982102002", "", "", "", ""],
            "duplicate_of": [None, "a", None, None, None],
            "sender_unit": ["", "", "130903100", "", ""],
        }
    )
    assert file_units(frame, root="1309").tolist() == [
        "130982102001,130982102002",  # its rows'
        "130982102001,130982102002",  # the file it duplicates
        "130903100",  # the sender's unit
        "130921",  # the code its name starts with
        "1309",  # nobody can tell: the top unit's stewards
    ]
    assert file_units(frame).iloc[4] == ""
