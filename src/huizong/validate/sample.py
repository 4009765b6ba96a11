"""Build small, valid RECEIVED frames from dicts (tests, benchmarks, examples).

Only the fields a case cares about are given; the rest get valid defaults, so a test
states exactly what it plants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from huizong import frames
from huizong.catalogue import Catalogue

DEFAULT_UNIT = "130902001001"  # 建北社区居民委员会 in the shipped 沧州市 extract


def received_row(catalogue: Catalogue, **values: Any) -> dict[str, Any]:
    """A valid candidate row: every numeric indicator 0 unless given (None = blank)."""
    period = values.get("period", "2026-11-26")
    row: dict[str, Any] = {
        "file_id": "f" * 64,
        "file_name": "report.xlsx",
        "sheet": "Sheet1",
        "row_number": 2,
        "unit_code": DEFAULT_UNIT,
        "unit_name": "建北社区居民委员会",
        "period": period,
        "period_raw": period,
        "claimed_kind": "village",
        "received_at": pd.Timestamp("2026-11-26 20:00", tz="UTC"),
        "not_applicable": "",
        "cell_errors": "",
        "coercions": "",
        "disposition": "candidate",
        "superseded_by": None,
        "superseded_reason": None,
    }
    for ind in catalogue.indicators:
        row[ind.code] = 0 if ind.is_numeric else None
    unknown = set(values) - set(row)
    if unknown:
        raise KeyError(f"not a RECEIVED column: {sorted(unknown)}")
    row.update(values)
    return row


def received_frame(catalogue: Catalogue, rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """RECEIVED with contract dtypes; row_number defaults to 2, 3, ... in the order given."""
    built = []
    for i, values in enumerate(rows):
        values = dict(values)
        values.setdefault("row_number", i + 2)
        built.append(received_row(catalogue, **values))
    frame = pd.DataFrame(built, columns=[*frames.RECEIVED_META, *catalogue.codes])
    for ind in catalogue.indicators:
        frame[ind.code] = frame[ind.code].astype("Int64" if ind.is_numeric else "str")
    frame["row_number"] = frame["row_number"].astype("int64")
    text = [c for c in frames.RECEIVED_META if c not in ("row_number", "received_at")]
    frame[text] = frame[text].astype("str")
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    return frame
