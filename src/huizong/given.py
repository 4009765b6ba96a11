"""What counts as a report: a row that says something about at least one indicator.

A template returned untouched (unit, name and date pre-filled, every indicator blank)
is not a report: counting it would inflate completeness. A value (0 included: 零报告),
a text, or a 不适用 mark is something said. Validation warns about rows with none
(``empty_report``) and the roll-up does not count them as reporting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from huizong.catalogue import Catalogue


def values_given(rows: pd.DataFrame, catalogue: Catalogue) -> np.ndarray:
    """Per row, how many indicators carry a value, a text or a 不适用 mark (int64)."""
    given = np.zeros(len(rows), dtype=np.int64)
    for ind in catalogue.indicators:
        if ind.code not in rows.columns:
            continue
        col = rows[ind.code]
        if ind.is_numeric:
            given += col.notna().to_numpy(bool)
        else:
            given += (col.astype("str").str.strip().str.len() > 0).fillna(False).to_numpy(bool)
    if "not_applicable" in rows.columns:
        given += (rows["not_applicable"].fillna("").astype("str") != "").to_numpy(bool)
    return given
