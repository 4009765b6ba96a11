"""One realistic reporting day for the registry (default: 沧州市), written as an inbox.

The day is planned in memory first (:func:`plan_demo_day`: every cell, file name,
arrival time and planted mistake), then written (:func:`generate_demo_day`). Planning is
pure, so tests and the CLI can ask what was planted (:func:`demo_mistakes`,
:func:`demo_manifest`) without reading the files back.

Why the manifest is not in the inbox: the pipeline ingests every file there. It is
written beside the inbox folder as ``<inbox>.manifest.json`` (see :func:`manifest_path`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from huizong.catalogue import Catalogue, load_catalogue
from huizong.demo.values import (
    DEPARTMENT_NOT_APPLICABLE,
    NOT_APPLICABLE_TEXT,
    simulate_text,
    simulate_values,
    unit_sizes,
)
from huizong.ingest import receipts
from huizong.ingest.headers import META_LABELS_ZH, column_labels
from huizong.registry import Registry, load_registry
from huizong.schedule import DEFAULT_DEADLINES
from huizong.settings import TIMEZONE

DEFAULT_SEED = 20200128
DEMO_DAY = date(2020, 1, 28)

META = ("unit_code", "unit_name", "period")
SHEET = "日报表"
#: Row of the header in generated workbooks (1-based): title, date line, header.
XLSX_HEADER_ROW = 3
CSV_HEADER_ROW = 1

SHARE_TOWNSHIPS_MISSING = 0.05
SHARE_VILLAGES_LEFT_OUT = 0.02
SHARE_BLANK = 0.03
SHARE_LATE = 0.04
SELF_FILED = 4  # plus the revision: ~5 single-village workbooks
NOT_APPLICABLE_VILLAGE_CELLS = 12
NOT_APPLICABLE_VILLAGE_COLUMNS = ("led_screens", "medical_observation", "disinfectant_stock")
#: Townships that each carry one planted mistake (negative, typo, duplicate row,
#: cross-field, revision, duplicate file).
PLANTED_TOWNSHIPS = 6


class DemoError(ValueError):
    """The registry cannot carry a demo day (bilingual message for the operator)."""


def demo_day_default() -> date:
    """The demo's reporting day: 2020-01-28, the date of the seed township report."""
    return DEMO_DAY


def manifest_path(inbox: Path) -> Path:
    """Where :func:`generate_demo_day` writes the manifest: beside the inbox, not in it."""
    inbox = Path(inbox)
    return inbox.parent / f"{inbox.name}.manifest.json"


@dataclass
class DemoFile:
    """One planned file: its rows as cells, already in the clerk's layout."""

    name: str
    kind: str  # township | village | department | duplicate
    unit_code: str
    unit_name: str
    received_at: datetime  # aware, Asia/Shanghai
    fmt: str = "xlsx"  # xlsx | csv
    header_style: str = "zh"  # zh | code | zh_code
    title: str | None = None
    rows: list[list[Any]] = field(default_factory=list)  # META + catalogue.codes order
    copy_of: str | None = None

    @property
    def header_row(self) -> int:
        return CSV_HEADER_ROW if self.fmt == "csv" else XLSX_HEADER_ROW


@dataclass
class DemoPlan:
    day: date
    seed: int
    files: list[DemoFile]
    manifest: dict[str, Any]


def _rng(day: date, seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, day.toordinal()])


def _local(day: date, seconds: int) -> datetime:
    """``seconds`` after the start of ``day`` in Asia/Shanghai."""
    start = datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(TIMEZONE))
    return start + timedelta(seconds=int(seconds))


def _cells(
    values: dict[str, np.ndarray],
    problems: np.ndarray,
    suggestions: np.ndarray,
    catalogue: Catalogue,
) -> np.ndarray:
    """Object matrix (units x indicators): int, None (blank) or 不适用 text."""
    n = len(problems)
    out = np.empty((n, len(catalogue.indicators)), dtype=object)
    for j, ind in enumerate(catalogue.indicators):
        if ind.is_numeric:
            out[:, j] = values[ind.code].astype(object)
        else:
            out[:, j] = problems if ind.code == "problems" else suggestions
    return out


def _count_like_the_villages(
    d_cells: np.ndarray,
    departments: pd.DataFrame,
    villages: pd.DataFrame,
    cells: np.ndarray,
    clean: dict[str, np.ndarray],
    day: date,
    seed: int,
    catalogue: Catalogue,
    col: dict[str, int],
) -> None:
    """A health commission's case counts come from its own register: the total of every
    village under it as written, whether or not the village reports today. Where villages
    are missing or quarantined, the stewards' department/geography check finds a
    difference. A cumulative register never goes down: on another day than the demo day
    it is the demo day's figure plus what the villages' true totals grew by since."""
    codes = villages["code"].to_numpy(dtype=str)
    anchor_cells = anchor_clean = None
    for pair in catalogue.pairs:
        j_dep, j_geo = col[pair.indicator], col[pair.geography]
        cumulative = pair.geography in _CUMULATIVE_FLOWS and day != DEMO_DAY
        if cumulative and anchor_cells is None:
            rng = _rng(DEMO_DAY, seed)
            anchor_clean = _village_values(rng, villages, catalogue)
            anchor_cells = _village_cells(rng, anchor_clean, catalogue)
        for d in np.flatnonzero(departments["name"].str.contains(pair.department).to_numpy()):
            under = np.char.startswith(codes, str(departments.at[d, "parent_code"]))
            if cumulative:
                grown = (
                    clean[pair.geography][under].sum() - anchor_clean[pair.geography][under].sum()
                )
                d_cells[d, j_dep] = max(0, _written_sum(anchor_cells[under, j_geo]) + int(grown))
            else:
                d_cells[d, j_dep] = _written_sum(cells[under, j_geo])


def _written_sum(cells: np.ndarray) -> int:
    """Sum of the numbers written (blank and 不适用 add nothing)."""
    return int(sum(v for v in cells if isinstance(v, int)))


def _village_cells(
    rng: np.random.Generator, values: dict[str, np.ndarray], catalogue: Catalogue
) -> np.ndarray:
    """The cells the villages write from their clean values: texts, a few blanks, a few
    不适用 (the next draws of the day's generator, after the values)."""
    col = {c: j for j, c in enumerate(catalogue.codes)}
    nv = len(next(iter(values.values())))
    problems, suggestions = simulate_text(nv, rng)
    cells = _cells(values, problems, suggestions, catalogue)
    numeric_j = [j for j, ind in enumerate(catalogue.indicators) if ind.is_numeric]
    blank = rng.random((nv, len(numeric_j))) < SHARE_BLANK
    sub = cells[:, numeric_j]
    sub[blank] = None
    cells[:, numeric_j] = sub
    na_rows = rng.choice(nv, NOT_APPLICABLE_VILLAGE_CELLS, replace=False)
    na_cols = rng.choice(
        [col[c] for c in NOT_APPLICABLE_VILLAGE_COLUMNS if c in col], NOT_APPLICABLE_VILLAGE_CELLS
    )
    cells[na_rows, na_cols] = NOT_APPLICABLE_TEXT
    return cells


def _village_values(
    rng: np.random.Generator, villages: pd.DataFrame, catalogue: Catalogue
) -> dict[str, np.ndarray]:
    """One day's clean village values: the first draws of that day's generator."""
    return simulate_values(unit_sizes(villages["name"], rng), rng, catalogue)


#: Cumulative count → (the day's flow that adds to it, or None: the day's own draw of
#: the cumulative, scaled down, is the increment).
_CUMULATIVE_FLOWS = {
    "returnees_total": "returnees_new",
    "returnees_key_area_total": None,
    "returnees_other_province_total": None,
    "isolation_released_total": None,
    "confirmed_total": "confirmed_new",
}
#: Flows of the day that must not exceed the day's cumulative (error rules).
_FLOW_OF = {"returnees_new": "returnees_total", "confirmed_new": "confirmed_total"}


def _increments(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What one day adds to each cumulative count, from that day's clean values: the new
    returnees (the key-area and other-province parts never more than them), new cases, a
    tenth of the day's drawn releases."""
    new = v["returnees_new"]
    key = np.minimum(v["returnees_key_area_total"] // 20, new)
    return {
        "returnees_total": new,
        "returnees_key_area_total": key,
        "returnees_other_province_total": np.minimum(
            v["returnees_other_province_total"] // 20, new - key
        ),
        "isolation_released_total": v["isolation_released_total"] // 10,
        "confirmed_total": v["confirmed_new"],
    }


def carry_cumulative(
    values: dict[str, np.ndarray],
    day: date,
    seed: int,
    villages: pd.DataFrame,
    catalogue: Catalogue,
) -> dict[str, np.ndarray]:
    """Make cumulative counts consistent across days (in place; also returned).

    The demo day's values are the anchor. A later day adds each day's increments since
    then (so consecutive days never go down); an earlier day takes them away, down to 0,
    and its flows (new returnees, new cases) are capped by its cumulative. Each day in
    between is re-simulated from its own generator (cheap: only the value draws)."""
    codes = [c for c in _CUMULATIVE_FLOWS if c in values]
    if day == DEMO_DAY or len(codes) < len(_CUMULATIVE_FLOWS):
        return values
    anchor = _village_values(_rng(DEMO_DAY, seed), villages, catalogue)
    state = {c: anchor[c].copy() for c in codes}
    step = 1 if day > DEMO_DAY else -1
    k = DEMO_DAY
    while k != day:
        if step == 1:
            k += timedelta(days=1)
            v = values if k == day else _village_values(_rng(k, seed), villages, catalogue)
            for c, inc in _increments(v).items():
                state[c] += inc
        else:
            v = _village_values(_rng(k, seed), villages, catalogue)
            for c, inc in _increments(v).items():
                state[c] = np.maximum(state[c] - inc, 0)
            k -= timedelta(days=1)
    for c in codes:
        upper = catalogue.indicator(c).max
        values[c] = state[c] if upper is None else np.minimum(state[c], upper)
    values["returnees_key_area_total"] = np.minimum(
        values["returnees_key_area_total"], values["returnees_total"]
    )
    for flow, total in _FLOW_OF.items():
        values[flow] = np.minimum(values[flow], values[total])
    return values


def _carry_department_totals(
    d_cells: np.ndarray, day: date, seed: int, catalogue: Catalogue, col: dict[str, int]
) -> None:
    """A department's own cumulative counts (not 不适用, not copied from the villages'
    register) grow by a fixed daily amount from a base: never down from one day to the
    next. Base and rate come from a generator of the seed alone (not of the day)."""
    paired = {p.indicator for p in catalogue.pairs}
    codes = [
        c
        for c in _CUMULATIVE_FLOWS
        if c in col and c not in paired and c not in DEPARTMENT_NOT_APPLICABLE
    ]
    if not codes or not len(d_cells):
        return
    rng = np.random.default_rng([seed, 0xD])
    days = (day - DEMO_DAY).days
    for c in codes:
        base = rng.poisson(30.0, len(d_cells))
        rate = rng.poisson(2.0, len(d_cells))
        value = np.maximum(base + rate * days, 0)
        upper = catalogue.indicator(c).max
        if upper is not None:
            value = np.minimum(value, upper)
        d_cells[:, col[c]] = [int(v) for v in value]


def _too_small(registry: Registry, found: int) -> DemoError:
    return DemoError(
        f"单位库（根 {registry.root}）太小，无法生成演示数据：预设错误需要至少 {PLANTED_TOWNSHIPS} "
        f"个按时上报、各有3个以上村/社区的乡镇街道，只有 {found} 个 | "
        f"the registry (root {registry.root}) is too small for a demo day: the planted "
        f"mistakes need {PLANTED_TOWNSHIPS} on-time townships with at least 3 villages each, "
        f"found {found}"
    )


def _swap_code(code: str, known: set[str]) -> str:
    """The code with two neighbouring differing digits swapped, not in the registry."""
    for i in range(len(code) - 2, 5, -1):
        a, b = code[i], code[i + 1]
        if a == b:
            continue
        cand = code[:i] + b + a + code[i + 2 :]
        if cand not in known:
            return cand
    raise ValueError(f"no mistyped variant of {code} outside the registry")


def plan_demo_day(
    day: date,
    *,
    seed: int = DEFAULT_SEED,
    registry: Registry | None = None,
    catalogue: Catalogue | None = None,
) -> DemoPlan:
    """Every file of the demo day, in memory. Same (day, seed, registry) → same plan."""
    registry = registry if registry is not None else load_registry()
    catalogue = catalogue if catalogue is not None else load_catalogue()
    rng = _rng(day, seed)
    units = registry.units
    codes = list(catalogue.codes)
    col = {c: j for j, c in enumerate(codes)}
    iso = day.isoformat()
    stamp = day.strftime("%Y%m%d")

    villages = units[units["level"] == 5].sort_values("code").reset_index(drop=True)
    townships = (
        units[(units["level"] == 4) & units["code"].isin(villages["parent_code"])]
        .sort_values("code")
        .reset_index(drop=True)
    )
    departments = units[units["kind"] == "department"].sort_values("code").reset_index(drop=True)
    nv, nt = len(villages), len(townships)
    if nt < PLANTED_TOWNSHIPS or nv < NOT_APPLICABLE_VILLAGE_CELLS:
        raise _too_small(registry, nt)

    # ---- values for every village ----------------------------------------
    values = _village_values(rng, villages, catalogue)
    clean = carry_cumulative(values, day, seed, villages, catalogue)
    cells = _village_cells(rng, values, catalogue)

    # ---- who reports ----------------------------------------
    n_missing = max(1, round(nt * SHARE_TOWNSHIPS_MISSING))
    missing_t = set(rng.choice(nt, n_missing, replace=False).tolist())
    reporting_t = [t for t in range(nt) if t not in missing_t]
    left_out = rng.random(nv) < SHARE_VILLAGES_LEFT_OUT
    t_index = pd.Index(townships["code"]).get_indexer(villages["parent_code"])
    rows_of: dict[int, np.ndarray] = {
        t: np.flatnonzero((t_index == t) & ~left_out) for t in reporting_t
    }
    late_t = set(
        rng.choice(reporting_t, max(1, round(len(reporting_t) * SHARE_LATE)), False).tolist()
    )

    # mistakes go to distinct on-time townships with at least 3 villages in their batch
    eligible = [t for t in reporting_t if t not in late_t and len(rows_of[t]) >= 3]
    if len(eligible) < PLANTED_TOWNSHIPS:
        raise _too_small(registry, len(eligible))
    picks = rng.choice(eligible, PLANTED_TOWNSHIPS, replace=False).tolist()
    t_neg, t_typo, t_duprow, t_cross, t_rev, t_dupfile = picks

    def period_cell() -> Any:
        style = rng.random()
        if style < 0.1:
            return f"{day.year}年{day.month}月{day.day}日"
        if style < 0.15:
            return datetime.combine(day, time(0, 0))
        return iso

    v_codes = villages["code"].tolist()
    v_names = villages["name"].tolist()

    def row(i: int, period: Any) -> list[Any]:
        return [v_codes[i], v_names[i], period, *cells[i].tolist()]

    # ---- township batches ----------------------------------------
    files: list[DemoFile] = []
    by_township: dict[int, DemoFile] = {}
    # on time by the default deadlines (schedule.DEFAULT_DEADLINES): batches before the
    # townships' 20:00, villages' and departments' own files before 18:00
    arrival = rng.integers(15 * 3600, 20 * 3600, nt)
    late_arrival = rng.integers(24 * 3600 + 300, 26 * 3600 + 1800, nt)
    for t in reporting_t:
        code, name = townships.at[t, "code"], townships.at[t, "name"]
        secs = late_arrival[t] if t in late_t else arrival[t]
        if t in (t_rev, t_dupfile):
            secs = min(secs, 16 * 3600)  # leaves room for a later revision / second copy
        period = period_cell()
        f = DemoFile(
            name=f"{code}_{name}_疫情防控日报_{stamp}.xlsx",
            kind="township",
            unit_code=code,
            unit_name=name,
            received_at=_local(day, secs),
            title=f"{name}{catalogue.title_zh}",
            rows=[row(i, period) for i in rows_of[t]],
        )
        files.append(f)
        by_township[t] = f

    mistakes: list[dict[str, Any]] = []

    def first_row(f: DemoFile) -> int:
        return f.header_row + 1

    def pick(t: int) -> int:
        """Position (in the batch) of a village for a mistake: never the first row."""
        return int(rng.integers(1, len(by_township[t].rows)))

    # a negative count
    f = by_township[t_neg]
    k = pick(t_neg)
    f.rows[k][3 + col["masks_in_stock"]] = -5
    mistakes.append(
        {
            "kind": "negative_count",
            "file": f.name,
            "row_number": first_row(f) + k,
            "unit_code": f.rows[k][0],
            "column": "masks_in_stock",
            "value": -5,
        }
    )
    # a mistyped unit code (two digits swapped): the true village shows as missing
    f = by_township[t_typo]
    k = pick(t_typo)
    true_code = f.rows[k][0]
    wrong = _swap_code(true_code, set(units["code"]))
    f.rows[k][0] = wrong
    mistakes.append(
        {
            "kind": "mistyped_code",
            "file": f.name,
            "row_number": first_row(f) + k,
            "unit_code": wrong,
            "true_code": true_code,
        }
    )
    # the same village twice in one batch, with different values (pasted again at the end)
    f = by_township[t_duprow]
    k = pick(t_duprow)
    again = list(f.rows[k])
    j = 3 + col["masks_distributed"]
    before = f.rows[k][j] if isinstance(f.rows[k][j], int) else 0
    f.rows[k][j] = before
    again[j] = before + 20 + int(rng.integers(1, 200))
    f.rows.append(again)
    mistakes.append(
        {
            "kind": "duplicate_row",
            "file": f.name,
            "unit_code": again[0],
            "row_numbers": [first_row(f) + k, first_row(f) + len(f.rows) - 1],
            "column": "masks_distributed",
            "values": [before, again[j]],
        }
    )
    # a cross-field violation: more new returnees than returnees in total
    f = by_township[t_cross]
    k = pick(t_cross)
    total = f.rows[k][3 + col["returnees_total"]]
    if not isinstance(total, int):
        parts = [
            f.rows[k][3 + col[c]]
            for c in ("returnees_key_area_total", "returnees_other_province_total")
        ]
        total = max([int(rng.integers(5, 40)), *(p for p in parts if isinstance(p, int))])
    new = total + int(rng.integers(3, 30))
    f.rows[k][3 + col["returnees_total"]] = total
    f.rows[k][3 + col["returnees_new"]] = new
    mistakes.append(
        {
            "kind": "cross_field",
            "file": f.name,
            "row_number": first_row(f) + k,
            "unit_code": f.rows[k][0],
            "rule": "returnees_new_le_total",
            "values": {"returnees_new": new, "returnees_total": total},
        }
    )
    # a later revision of one village of a batch: supersedes that village's row only
    batch = by_township[t_rev]
    k = pick(t_rev)
    j = 3 + col["persons_screened"]
    old = batch.rows[k][j] if isinstance(batch.rows[k][j], int) else 0
    batch.rows[k][j] = old
    revised = list(batch.rows[k])
    revised[2] = iso
    revised[j] = old + 10 + int(rng.integers(1, 100))
    v_code, v_name = revised[0], revised[1]
    rev = DemoFile(
        name=f"{v_code}_{v_name}_疫情防控日报_{stamp}_更正.xlsx",
        kind="village",
        unit_code=v_code,
        unit_name=v_name,
        received_at=batch.received_at + timedelta(seconds=int(rng.integers(3600, 7200))),
        title=f"{v_name}{catalogue.title_zh}",
        rows=[revised],
    )
    files.append(rev)
    mistakes.append(
        {
            "kind": "revision",
            "file": rev.name,
            "supersedes": batch.name,
            "unit_code": v_code,
            "row_number": first_row(batch) + k,
            "column": "persons_screened",
            "old": old,
            "new": revised[j],
        }
    )

    # ---- villages filing themselves (left out of their township's batch) ----
    left_in_reporting = [
        int(i)
        for i in np.flatnonzero(left_out)
        if t_index[i] in rows_of and t_index[i] not in late_t
    ]
    self_filed = sorted(
        rng.choice(left_in_reporting, min(SELF_FILED, len(left_in_reporting)), False).tolist()
    )
    for i in self_filed:
        code, name = villages.at[i, "code"], villages.at[i, "name"]
        files.append(
            DemoFile(
                name=f"{code}_{name}_疫情防控日报_{stamp}.xlsx",
                kind="village",
                unit_code=code,
                unit_name=name,
                received_at=_local(day, int(rng.integers(14 * 3600, 18 * 3600))),
                title=f"{name}{catalogue.title_zh}",
                rows=[row(i, iso)],
            )
        )

    # ---- departments ----------------------------------------
    nd = len(departments)
    if nd:
        d_size = rng.lognormal(np.log(8.0), 0.3, nd)
        d_values = simulate_values(d_size, rng, catalogue)
        d_problems, d_suggestions = simulate_text(nd, rng, 0.4, 0.4)
        d_cells = _cells(d_values, d_problems, d_suggestions, catalogue)
        for c in DEPARTMENT_NOT_APPLICABLE:
            if c in col:
                d_cells[:, col[c]] = NOT_APPLICABLE_TEXT
        _count_like_the_villages(
            d_cells, departments, villages, cells, clean, day, seed, catalogue, col
        )
        _carry_department_totals(d_cells, day, seed, catalogue, col)
        csv_at = 1 if nd > 1 else 0
        for d in range(nd):
            code, name = departments.at[d, "code"], departments.at[d, "name"]
            is_csv = d == csv_at
            f = DemoFile(
                name=f"{code}_{name}_疫情防控日报_{stamp}.{'csv' if is_csv else 'xlsx'}",
                kind="department",
                unit_code=code,
                unit_name=name,
                received_at=_local(day, int(rng.integers(14 * 3600, 18 * 3600))),
                fmt="csv" if is_csv else "xlsx",
                header_style="code" if is_csv else ("zh_code" if d == 0 else "zh"),
                title=None if is_csv else f"{name}{catalogue.title_zh}",
                rows=[[code, name, iso, *d_cells[d].tolist()]],
            )
            files.append(f)
            if is_csv:
                mistakes.append(
                    {
                        "kind": "gb18030_csv",
                        "file": f.name,
                        "unit_code": code,
                        "encoding": "gb18030",
                        "header": "codes",
                    }
                )

    # ---- the same file pulled twice ----------------------------------------
    orig = by_township[t_dupfile]
    stem = orig.name.removesuffix(".xlsx")
    copy = DemoFile(
        name=f"{stem}(1).xlsx",
        kind="duplicate",
        unit_code=orig.unit_code,
        unit_name=orig.unit_name,
        received_at=orig.received_at + timedelta(seconds=int(rng.integers(600, 2400))),
        copy_of=orig.name,
    )
    files.append(copy)
    mistakes.append({"kind": "duplicate_file", "file": copy.name, "copy_of": orig.name})

    files.sort(key=lambda f: (f.received_at, f.name))
    deadlines = {
        kind: datetime.combine(day, at, tzinfo=ZoneInfo(TIMEZONE))
        for kind, at in DEFAULT_DEADLINES.items()
    }
    deadline = deadlines["township"]

    def deadline_of_file(f: DemoFile) -> datetime:  # a second copy is a township's batch
        return deadlines.get(f.kind, deadline)

    covered = sorted(
        {r[0] for f in files for r in f.rows if f.kind in ("township", "village")} - {wrong}
    )
    self_codes = {villages.at[i, "code"] for i in self_filed}
    manifest = {
        "day": iso,
        "seed": seed,
        "root": registry.root,
        "deadline": deadline.isoformat(),
        "deadlines": {k: v.isoformat() for k, v in deadlines.items()},
        "files": [
            {
                "name": f.name,
                "kind": f.kind,
                "unit_code": f.unit_code,
                "format": f.fmt,
                "encoding": "gb18030" if f.fmt == "csv" else None,
                "header_style": f.header_style,
                "header_row": f.header_row,
                "rows": len(f.rows) if f.copy_of is None else 0,
                "received_at": f.received_at.isoformat(),
                "late": f.received_at > deadline_of_file(f),
                "copy_of": f.copy_of,
            }
            for f in files
        ],
        "townships": nt,
        "villages": nv,
        "missing_townships": sorted(townships.loc[sorted(missing_t), "code"].tolist()),
        "left_out_villages": sorted(
            c
            for c in villages.loc[left_out & np.isin(t_index, list(rows_of)), "code"]
            if c not in self_codes
        ),
        "self_filed_villages": sorted(self_codes),
        "villages_in_files": covered,
        "mistakes": mistakes,
    }
    return DemoPlan(day=day, seed=seed, files=files, manifest=manifest)


# ---- writing ----------------------------------------


def _headers(catalogue: Catalogue, style: str) -> list[str]:
    if style == "code":
        return [*META, *catalogue.codes]
    if style == "zh_code":
        labels = column_labels(catalogue)
        return [labels[c] for c in (*META, *catalogue.codes)]
    return [META_LABELS_ZH[m] for m in META] + [i.zh for i in catalogue.indicators]


def _xlsx_bytes(f: DemoFile, day: date, catalogue: Catalogue) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
    # fixed metadata (xlsxwriter writes it as UTC): same bytes on every run
    created = f.received_at.astimezone(UTC).replace(tzinfo=None) - timedelta(minutes=20)
    wb.set_properties({"created": created, "author": f.unit_name, "title": f.title or ""})
    bold = wb.add_format({"bold": True})
    title_fmt = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "border": 1})
    text = wb.add_format({"num_format": "@"})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet(SHEET)
    ws.write_string(0, 0, f.title or "", title_fmt)
    ws.write_string(1, 0, f"填报日期：{day.isoformat()}", bold)
    hr = f.header_row - 1
    ws.write_row(hr, 0, _headers(catalogue, f.header_style), head)
    ws.set_column(0, 0, 16, text)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 2, 12)
    ws.set_column(3, 3 + len(catalogue.codes), 10)
    for r, values in enumerate(f.rows, start=hr + 1):
        ws.write_string(r, 0, str(values[0]), text)
        ws.write_string(r, 1, str(values[1]))
        period = values[2]
        if isinstance(period, datetime):
            ws.write_datetime(r, 2, period, date_fmt)
        else:
            ws.write_string(r, 2, str(period))
        for c, v in enumerate(values[3:], start=3):
            if v is None:
                continue
            if isinstance(v, str):
                ws.write_string(r, c, v)
            else:
                ws.write_number(r, c, v)
    ws.freeze_panes(hr + 1, 3)
    wb.close()
    return buf.getvalue()


def _csv_bytes(f: DemoFile, catalogue: Catalogue) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(_headers(catalogue, f.header_style))
    for values in f.rows:
        w.writerow(["" if v is None else v for v in values])
    return out.getvalue().encode("gb18030")


def generate_demo_day(
    day: date,
    inbox: Path,
    *,
    seed: int = DEFAULT_SEED,
    registry: Registry | None = None,
    catalogue: Catalogue | None = None,
) -> list[Path]:
    """Write the demo day's submissions into ``inbox`` (created; nothing removed) and the
    manifest beside it (:func:`manifest_path`); return the files written to ``inbox``.

    Bytes and mtimes depend only on (day, seed, registry, catalogue).
    """
    catalogue = catalogue if catalogue is not None else load_catalogue()
    plan = plan_demo_day(day, seed=seed, registry=registry, catalogue=catalogue)
    return write_demo_plan(plan, inbox, catalogue)


def write_demo_plan(plan: DemoPlan, inbox: Path, catalogue: Catalogue | None = None) -> list[Path]:
    """Write a planned day into ``inbox`` (created; nothing removed) and its manifest."""
    catalogue = catalogue if catalogue is not None else load_catalogue()
    day = plan.day
    inbox = Path(inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    content: dict[str, bytes] = {}
    written: list[Path] = []
    arrivals: list[receipts.Receipt] = []
    for f in plan.files:
        if f.copy_of is not None:
            data = content[f.copy_of]
        elif f.fmt == "csv":
            data = _csv_bytes(f, catalogue)
        else:
            data = _xlsx_bytes(f, day, catalogue)
        content[f.name] = data
        path = inbox / f.name
        path.write_bytes(data)
        ns = int(f.received_at.timestamp()) * 1_000_000_000
        os.utime(path, ns=(ns, ns))
        written.append(path)
        arrivals.append(
            receipts.Receipt(
                source=path.relative_to(inbox).as_posix(),
                sha256=hashlib.sha256(data).hexdigest(),
                received_at=receipts.iso_utc(pd.Timestamp(ns, unit="ns", tz="UTC")),
                channel=receipts.FOLDER,
                ref="demo",
            )
        )
    # the simulated arrival times go in the receipt book, as the intake would record them
    receipts.append(receipts.book_path(inbox), arrivals)
    manifest_path(inbox).write_text(
        json.dumps(plan.manifest, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8"
    )
    return written


def demo_manifest(
    day: date,
    seed: int = DEFAULT_SEED,
    *,
    registry: Registry | None = None,
    catalogue: Catalogue | None = None,
) -> dict[str, Any]:
    """What :func:`generate_demo_day` writes for (day, seed), without writing anything."""
    return plan_demo_day(day, seed=seed, registry=registry, catalogue=catalogue).manifest


def demo_mistakes(
    day: date,
    seed: int = DEFAULT_SEED,
    *,
    registry: Registry | None = None,
    catalogue: Catalogue | None = None,
) -> list[dict[str, Any]]:
    """The planted mistakes of (day, seed): one dict per mistake, ``kind`` says which."""
    return demo_manifest(day, seed, registry=registry, catalogue=catalogue)["mistakes"]
