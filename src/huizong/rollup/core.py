"""Roll accepted reports up the org-unit hierarchy: townships first, then parents by code.

Why this shape: at national scale (620,573 villages x 40 indicators) one pass over the
village rows (sorted by township, reduced with ``numpy.ufunc.reduceat``) is the only pass
over the big frame; counties, cities, provinces and the nation are then composed from
the few thousand township aggregates. Everything is carried as *composable* statistics
per (unit, indicator) so that every aggregate is exact:

* ``s`` sum of the values given (for sum and mean indicators; a blank adds nothing),
* ``c`` reporters that gave a value (``reporting_units``; the mean is ``s / c``, i.e. the
  mean over all reporters of the subtree, which is the child mean weighted by its
  reporting units),
* ``a`` reporters that gave no value but marked the indicator not applicable,
* ``mx`` / ``mn`` running max / min (NaN until a value is seen).

Blank is never turned into zero: a unit whose subtree gave no value publishes NA.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from huizong import frames
from huizong.catalogue import Catalogue
from huizong.given import values_given
from huizong.registry import NATION_CODE, Registry
from huizong.schedule import DEFAULT_DEADLINES
from huizong.schedule import file_levels as file_levels_of
from huizong.schedule import on_time as on_time_of
from huizong.settings import Settings

#: Column of the org-unit frame holding each unit's ancestor at a level (0: the nation).
_ANCESTOR = {1: "province_code", 2: "city_code", 3: "county_code", 4: "township_code"}
#: Above township level the missing list is cut after this many entries.
MISSING_LIST_CAP = 200
_LIST_SEP = "; "
_TEXT_SEP = "\n"
_ATTRIBUTION = "："
STATUS_REPORTED, STATUS_NOT_REPORTED, STATUS_NOT_APPLICABLE = frames.VALUE_STATUSES


@dataclass(frozen=True)
class RollupResult:
    """The three frames of the roll-up step (columns as in ``huizong.frames``)."""

    consolidated: pd.DataFrame
    completeness: pd.DataFrame
    missing: pd.DataFrame


@dataclass(frozen=True)
class _Layout:
    """Where each indicator lives in the statistics matrices (derived from the catalogue)."""

    codes: list[str]  # all indicators, catalogue order
    numeric: list[str]  # numeric indicators (columns of ``s``)
    text: list[str]
    num_pos: np.ndarray  # position of each numeric indicator in ``codes``
    text_pos: np.ndarray
    max_cols: np.ndarray  # positions within ``numeric``
    min_cols: np.ndarray
    mean_cols: np.ndarray
    add: np.ndarray  # bool per indicator in ``codes``: department values add to geography

    @classmethod
    def of(cls, catalogue: Catalogue) -> _Layout:
        inds = catalogue.indicators
        codes = [i.code for i in inds]
        numeric = [i for i in inds if i.is_numeric]
        return cls(
            codes=codes,
            numeric=[i.code for i in numeric],
            text=[i.code for i in inds if not i.is_numeric],
            num_pos=np.array([k for k, i in enumerate(inds) if i.is_numeric], dtype=np.intp),
            text_pos=np.array([k for k, i in enumerate(inds) if not i.is_numeric], dtype=np.intp),
            max_cols=_cols(numeric, "max"),
            min_cols=_cols(numeric, "min"),
            mean_cols=_cols(numeric, "mean"),
            add=np.array([i.department == "add" for i in inds], dtype=bool),
        )


def _cols(numeric: list, how: str) -> np.ndarray:
    return np.array([k for k, i in enumerate(numeric) if i.across_units == how], dtype=np.intp)


@dataclass
class _Stats:
    """Composable statistics, one row per unit (see the module docstring)."""

    s: np.ndarray  # (n, numeric) int64
    c: np.ndarray  # (n, all) int32 (counts of reporters fit; uint8 for single reporters)
    a: np.ndarray  # (n, all) int32 (uint8 for single reporters)
    mx: np.ndarray  # (n, max indicators) float64
    mn: np.ndarray  # (n, min indicators) float64
    texts: list[np.ndarray]  # per text indicator: (n,) object, attributed lines or None

    def __len__(self) -> int:
        return self.s.shape[0]

    def take(self, idx: np.ndarray) -> _Stats:
        return _Stats(
            self.s[idx],
            self.c[idx],
            self.a[idx],
            self.mx[idx],
            self.mn[idx],
            [t[idx] for t in self.texts],
        )

    @staticmethod
    def concat(parts: list[_Stats]) -> _Stats:
        return _Stats(
            np.concatenate([p.s for p in parts]),
            np.concatenate([p.c for p in parts]),
            np.concatenate([p.a for p in parts]),
            np.concatenate([p.mx for p in parts]),
            np.concatenate([p.mn for p in parts]),
            [np.concatenate([p.texts[j] for p in parts]) for j in range(len(parts[0].texts))],
        )

    @staticmethod
    def empty(n: int, layout: _Layout) -> _Stats:
        k = len(layout.codes)
        return _Stats(
            np.zeros((n, len(layout.numeric)), dtype=np.int64, order="F"),
            np.zeros((n, k), dtype=np.int32, order="F"),
            np.zeros((n, k), dtype=np.int32, order="F"),
            np.full((n, len(layout.max_cols)), np.nan),
            np.full((n, len(layout.min_cols)), np.nan),
            [np.full(n, None, dtype=object) for _ in layout.text],
        )


# ---- reporter rows → statistics ---------------------------------------------------------


def _not_applicable_marks(marks: pd.Series, codes: list[str]) -> np.ndarray:
    """Bool matrix (rows x indicators) of the comma-separated 不适用 codes; only marked rows
    are split, so a day where nobody marks anything costs one length check."""
    out = np.zeros((len(marks), len(codes)), dtype=bool)
    text = marks.fillna("").astype(str).to_numpy()
    rows = np.flatnonzero(pd.Series(text).str.len().to_numpy() > 0)
    if len(rows):
        parts = pd.Series(text[rows], index=rows).str.split(",").explode().str.strip()
        col = pd.Index(codes).get_indexer(parts.to_numpy())
        ok = col >= 0
        out[parts.index.to_numpy()[ok], col[ok]] = True
    return out


def _reporter_stats(
    rows: pd.DataFrame, order: np.ndarray, names: np.ndarray, layout: _Layout
) -> _Stats:
    """Statistics of single reporters (each row is its own subtree of one), in row
    ``order`` (``names`` already in it). Matrices are column-major: filled column by
    column and reduced along rows, both contiguous."""
    n = len(rows)
    st = _Stats.empty(n, layout)
    has = np.zeros((n, len(layout.codes)), dtype=bool, order="F")
    for j, code in enumerate(layout.numeric):
        if code not in rows.columns:
            continue
        col = rows[code]
        if not isinstance(col.dtype, pd.Int64Dtype):
            col = pd.to_numeric(col, errors="coerce").astype("Int64")
        st.s[:, j] = col.to_numpy(dtype=np.int64, na_value=0)[order]
        has[:, layout.num_pos[j]] = col.notna().to_numpy()[order]
    for j, code in enumerate(layout.text):
        if code not in rows.columns:
            continue
        txt = rows[code].astype("str").str.strip().iloc[order].reset_index(drop=True)
        given = (txt.notna() & (txt.str.len() > 0)).to_numpy()
        has[:, layout.text_pos[j]] = given
        lines = np.full(n, None, dtype=object)
        lines[given] = (
            pd.Series(names[given], dtype="str") + _ATTRIBUTION + txt[given].reset_index(drop=True)
        ).to_numpy(dtype=object)
        st.texts[j] = lines
    num_has = has[:, layout.num_pos]  # blanks are already 0 in ``s``: they add nothing
    st.mx = np.where(num_has[:, layout.max_cols], st.s[:, layout.max_cols], np.nan)
    st.mn = np.where(num_has[:, layout.min_cols], st.s[:, layout.min_cols], np.nan)
    marked = (
        _not_applicable_marks(rows["not_applicable"], layout.codes)[order]
        if "not_applicable" in rows.columns
        else np.zeros_like(has)
    )
    # one reporter counts 0 or 1: a byte each (int32 was 0.26 GB of a national day's
    # reporters); the reductions above it count in int32 (``_reduce``'s dtype)
    st.c = has.astype(np.uint8, order="F")
    st.a = (marked & ~has).astype(np.uint8, order="F")
    return st


def _beside_removed(st: _Stats, layout: _Layout) -> _Stats:
    """A department's contribution to its parent: "beside" indicators contribute nothing."""
    out = _Stats(
        st.s.copy(),
        st.c.copy(),
        st.a.copy(),
        st.mx.copy(),
        st.mn.copy(),
        [t.copy() for t in st.texts],
    )
    num_beside = ~layout.add[layout.num_pos]
    out.s[:, num_beside] = 0
    out.c[:, ~layout.add] = 0
    out.a[:, ~layout.add] = 0
    out.mx[:, num_beside[layout.max_cols]] = np.nan
    out.mn[:, num_beside[layout.min_cols]] = np.nan
    for j, pos in enumerate(layout.text_pos):
        if not layout.add[pos]:
            out.texts[j][:] = None
    return out


# ---- children → parents -----------------------------------------------------------------


def _join_groups(lines: np.ndarray, pos: np.ndarray, n: int, sep: str) -> np.ndarray:
    """Join ``lines`` (already in the wanted order within each group) per group ``pos`` in
    one Arrow kernel; groups without lines get None."""
    out = np.full(n, None, dtype=object)
    if not len(lines):
        return out
    order = np.argsort(pos, kind="stable")
    counts = np.bincount(pos, minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    values = pa.array(lines[order], type=pa.large_string())
    joined = pc.binary_join(
        pa.LargeListArray.from_arrays(pa.array(offsets), values), pa.scalar(sep, pa.large_string())
    ).to_numpy(zero_copy_only=False)
    has = counts > 0
    out[has] = joined[has]
    return out


def _reduce(st: _Stats, codes: np.ndarray, pos: np.ndarray, n: int, layout: _Layout) -> _Stats:
    """Aggregate child rows into ``n`` parents (``pos`` = parent position, -1 = skip).

    Children are ordered by parent once; sums, counts and extremes are then contiguous
    ``reduceat`` blocks. Text lines are joined in unit-code order of their reporters.
    """
    out = _Stats.empty(n, layout)
    idx = np.flatnonzero(pos >= 0)
    if not len(idx):
        return out
    p = pos[idx]
    if len(p) > 1 and (np.diff(p) < 0).any():
        sorter = np.argsort(p, kind="stable")
        idx, p = idx[sorter], p[sorter]
    # a contiguous run of children (the usual case: rows pre-sorted by parent) is a view
    run = idx[-1] - idx[0] + 1 == len(idx) and (len(idx) < 2 or bool((np.diff(idx) > 0).all()))
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    groups = p[starts]
    for name, ufunc in (
        ("s", np.add),
        ("c", np.add),
        ("a", np.add),
        ("mx", np.fmax),
        ("mn", np.fmin),
    ):
        src, target = getattr(st, name), getattr(out, name)
        for j in range(src.shape[1]):  # a column of a column-major matrix is contiguous:
            # reduced alone it is never copied (the whole matrix at once was, 0.4 GB)
            col = src[idx[0] : idx[-1] + 1, j] if run else src[idx, j]
            target[groups, j] = ufunc.reduceat(col, starts, dtype=target.dtype)
    for j, lines in enumerate(st.texts):
        given = np.flatnonzero(pd.notna(lines) & (pos >= 0))
        if len(given):
            sub = pd.DataFrame({"pos": pos[given], "code": codes[given], "line": lines[given]})
            sub = sub.sort_values(["pos", "code"], kind="stable")
            out.texts[j] = _join_groups(
                sub["line"].to_numpy(dtype=object), sub["pos"].to_numpy(), n, _TEXT_SEP
            )
    return out


# ---- the step ---------------------------------------------------------------------------


def _objects(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=object, na_value=None)


def _positions(codes: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Position of each wanted code in ``codes`` (-1 when absent), hashing once."""
    return pd.Index(codes, dtype=object).get_indexer(wanted)


def _digit_keys(codes: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """All-digit codes (up to 15 digits) as int64 keys that also encode the length (so
    "0013" != "13"); returns (is_digit mask, keys with 0 elsewhere)."""
    text = codes.astype("str").reset_index(drop=True)
    length = text.str.len().fillna(0).to_numpy(dtype=np.int64)
    digit = text.str.isdigit().fillna(False).to_numpy(dtype=bool) & (length > 0) & (length <= 15)
    keys = np.zeros(len(codes), dtype=np.int64)
    if digit.any():
        keys[digit] = text[digit].astype("int64").to_numpy() * 16 + length[digit]
    return digit, keys


def _code_positions(codes: pd.Series, wanted: pd.Series) -> np.ndarray:
    """Position of each wanted code in ``codes`` (-1 absent). Official codes are digits:
    int64 binary search, no string hashing of 620k codes; others (departments) hash."""
    out = np.full(len(wanted), -1, dtype=np.intp)
    c_digit, c_keys = _digit_keys(codes)
    w_digit, w_keys = _digit_keys(wanted)
    ci = np.flatnonzero(c_digit)
    wi = np.flatnonzero(w_digit)
    if len(ci) and len(wi):
        sorter = ci[np.argsort(c_keys[ci], kind="stable")]
        sorted_keys = c_keys[sorter]
        at = np.minimum(np.searchsorted(sorted_keys, w_keys[wi]), len(sorter) - 1)
        hit = sorted_keys[at] == w_keys[wi]
        out[wi[hit]] = sorter[at[hit]]
    ct, wt = np.flatnonzero(~c_digit), np.flatnonzero(~w_digit & wanted.notna().to_numpy())
    if len(ct) and len(wt):
        found = _positions(_objects(codes.iloc[ct]), _objects(wanted.iloc[wt]))
        out[wt[found >= 0]] = ct[found[found >= 0]]
    return out


def roll_up(
    accepted: pd.DataFrame,
    day: date,
    catalogue: Catalogue,
    registry: Registry,
    settings: Settings,
    deadlines: Mapping[str, time] | None = None,
    file_levels: Mapping[str, str] | None = None,
) -> RollupResult:
    """Consolidate one day's accepted rows for every unit of level <= 4 under the root.

    A row is on time when it arrived by the deadline of its file's level (``deadlines``,
    the sources file's ``[deadlines]``; None = their defaults), as its receipt said:
    ``file_levels`` (file_id → level, :func:`huizong.schedule.ledger_levels`) gives each
    file's level from all the rows it brought; a file missing there is judged by its
    accepted rows.

    Units above ``registry.root`` are never published (an extract of one city must not
    claim a province total). Departments are published as units of their own; their
    values add into their parent only for indicators whose catalogue mode is "add".
    """
    layout = _Layout.of(catalogue)
    period = day.isoformat()
    units = registry.units
    root_level = _level_of_root(units, registry.root)
    levels = list(range(root_level, 5))

    scope = _within(units, registry.root, root_level)
    is_dep = (units["kind"] == "department").to_numpy()
    unit_level = units["level"].to_numpy()
    geo = units[scope & ~is_dep & (unit_level <= 4)].sort_values("code")
    villages = units[scope & ~is_dep & (unit_level == 5)].sort_values("code")
    geo_codes = _objects(geo["code"])
    all_deps = units[is_dep]
    deps = all_deps[_positions(geo_codes, _objects(all_deps["parent_code"])) >= 0]
    deps = deps.sort_values("code")
    reporters = pd.concat([villages, deps], ignore_index=True)
    n_vill, n_dep = len(villages), len(deps)
    rep_codes = _objects(reporters["code"])

    # integer positions: each geo unit's parent, each reporter's ancestor at every level
    by_level = {lv: geo[geo["level"] == lv] for lv in levels}
    codes_at = {lv: _objects(by_level[lv]["code"]) for lv in levels}
    parent_pos = {lv: _parent_positions(by_level[lv], lv, codes_at) for lv in levels[1:]}
    anc = _reporter_ancestors(villages, deps, levels, codes_at, parent_pos)

    # a row that says nothing (a template returned blank) is kept, but is not a report
    said = values_given(accepted, catalogue) > 0
    # only the columns the roll-up reads are taken (copy-on-write: no copy until the
    # mask), not the day's file names, sheets and raw periods
    read = {"unit_code", "received_at", "file_id", "not_applicable", *layout.codes}
    accepted = accepted[[c for c in accepted.columns if c in read]]
    acc, rep_pos = _accepted_rows(accepted if said.all() else accepted[said], reporters["code"])
    reported = np.zeros(len(reporters), dtype=bool)
    reported[rep_pos] = True
    on_time = np.zeros(len(reporters), dtype=bool)
    on_time[rep_pos] = _on_time(
        acc, day, deadlines or DEFAULT_DEADLINES, deps["code"], file_levels or {}
    )

    # rows ordered by township once (departments last): the township pass reads a view
    town = anc[4][rep_pos]
    order = np.argsort(np.where(town >= 0, town, len(codes_at[4])), kind="stable")
    rep_pos = rep_pos[order]
    names = _objects(reporters["name"])
    acc_stats = _reporter_stats(acc, order, names[rep_pos], layout)
    dep_own = _Stats.empty(n_dep, layout)
    dep_rows = np.flatnonzero(rep_pos >= n_vill)
    _assign(dep_own, rep_pos[dep_rows] - n_vill, acc_stats.take(dep_rows))
    dep_contrib = _beside_removed(dep_own, layout)
    dep_codes = rep_codes[n_vill:]
    dep_parent_level = deps["level"].to_numpy() - 1

    # townships first (one pass over the village rows), then each level from the one below
    level_stats: dict[int, _Stats] = {}
    for lv in reversed(levels):
        n = len(codes_at[lv])
        if lv == 4:
            pos = anc[4][rep_pos]  # departments have no township: -1, skipped
            child, child_codes = acc_stats, rep_codes[rep_pos]
        else:
            child, child_codes, pos = level_stats[lv + 1], codes_at[lv + 1], parent_pos[lv + 1]
        extra = np.flatnonzero(dep_parent_level == lv)
        if len(extra):
            child = _Stats.concat([child, dep_contrib.take(extra)])
            child_codes = np.concatenate([child_codes, dep_codes[extra]])
            pos = np.concatenate([pos, anc[lv][n_vill + extra]])
        level_stats[lv] = _reduce(child, child_codes, pos, n, layout)
    acc = acc_stats = child = None  # the reporter rows and matrices: 0.5 GB at nation

    out_units = pd.concat([*(by_level[lv] for lv in levels), deps], ignore_index=True)
    out_stats = _Stats.concat([*(level_stats[lv] for lv in levels), dep_own])
    n_geo = len(out_units) - n_dep

    # expected reporters per unit: villages + departments within its subtree
    counts = {
        name: _count_per_unit(anc, levels, codes_at, mask)
        for name, mask in (
            ("vill", np.r_[np.ones(n_vill, bool), np.zeros(n_dep, bool)]),
            ("dep", np.r_[np.zeros(n_vill, bool), np.ones(n_dep, bool)]),
            ("reported", reported),
            ("on_time", reported & on_time),
        )
    }
    exp_vill = np.r_[counts["vill"], np.zeros(n_dep, np.int64)]
    exp_dep = np.r_[counts["dep"], np.zeros(n_dep, np.int64)]
    expected = exp_vill[:, None] + exp_dep[:, None] * layout.add[None, :]
    expected[n_geo:] = 1  # a department is its own (only) reporter for every indicator
    exp_all = np.r_[counts["vill"] + counts["dep"], np.ones(n_dep, np.int64)]
    n_reported = np.r_[counts["reported"], reported[n_vill:]].astype(np.int64)
    n_on_time = np.r_[counts["on_time"], (reported & on_time)[n_vill:]].astype(np.int64)
    lists = _missing_lists(reporters, ~reported, anc, levels, codes_at)

    order = np.lexsort((out_units["code"].to_numpy().astype(str), out_units["level"].to_numpy()))
    out_units = out_units.iloc[order].reset_index(drop=True)
    consolidated = _consolidated(period, out_units, out_stats.take(order), expected[order], layout)
    completeness = _completeness(
        period, out_units, exp_all[order], n_reported[order], n_on_time[order], lists[order]
    )
    missing = _missing(period, reporters[~reported].sort_values("code"))
    return RollupResult(consolidated=consolidated, completeness=completeness, missing=missing)


def _parent_positions(here: pd.DataFrame, lv: int, codes_at: dict) -> np.ndarray:
    if lv - 1 == 0:
        return np.zeros(len(here), dtype=np.intp)
    return _positions(codes_at[lv - 1], _objects(here[_ANCESTOR[lv - 1]]))


def _reporter_ancestors(
    villages: pd.DataFrame, deps: pd.DataFrame, levels: list[int], codes_at: dict, parent_pos: dict
) -> dict[int, np.ndarray]:
    """Per level, each reporter's ancestor position (-1: none at that level, e.g. a city
    department has no county). Villages go up from their township by the parent chain."""
    out: dict[int, np.ndarray] = {}
    vill = _code_positions(pd.Series(codes_at[4], dtype="str"), villages["township_code"])
    dep_parent = _objects(deps["parent_code"])
    dep_level = deps["level"].to_numpy() - 1
    dep = np.full(len(deps), -1, dtype=np.intp)
    for lv in reversed(levels):
        if lv < 4:
            up = np.append(parent_pos[lv + 1], -1)  # index -1 → -1
            vill = up[vill]
            dep = up[dep]
        at = np.flatnonzero(dep_level == lv)
        if len(at):
            dep[at] = _positions(codes_at[lv], dep_parent[at])
        out[lv] = np.concatenate([vill, dep]).astype(np.intp)
    return out


def _count_per_unit(anc: dict, levels: list[int], codes_at: dict, mask: np.ndarray) -> np.ndarray:
    """How many reporters (``mask``) lie within each geo unit, levels in ``levels`` order."""
    parts = []
    for lv in levels:
        pos = anc[lv][mask]
        parts.append(np.bincount(pos[pos >= 0], minlength=len(codes_at[lv])).astype(np.int64))
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def _level_of_root(units: pd.DataFrame, root: str) -> int:
    row = units.loc[units["code"] == root, "level"]
    if len(row):
        return int(row.iloc[0])
    if root == NATION_CODE:
        return 0
    raise ValueError(f"registry root {root!r} is not one of its units")


def _within(units: pd.DataFrame, root: str, root_level: int) -> np.ndarray:
    if root_level == 0:
        return np.ones(len(units), dtype=bool)
    return (units[_ANCESTOR[root_level]] == root).fillna(False).to_numpy(dtype=bool)


def _accepted_rows(accepted: pd.DataFrame, rep_codes: pd.Series) -> tuple[pd.DataFrame, np.ndarray]:
    """Only registry reporters count (so a rate can never exceed 1); one row each.

    Returns the rows and each row's reporter position."""
    pos = _code_positions(rep_codes.reset_index(drop=True), accepted["unit_code"])
    known = pos >= 0
    acc = accepted if known.all() else accepted[known]
    pos = pos[known]
    if len(pos) and np.bincount(pos).max() > 1:
        # validation should leave one row per reporter; if not, the latest arrival wins
        frame = pd.DataFrame({"pos": pos, "row": np.arange(len(pos))})
        if "received_at" in acc.columns:
            frame["at"] = acc["received_at"].to_numpy()
            frame = frame.sort_values("at", kind="stable", na_position="first")
        keep = np.sort(frame.drop_duplicates("pos", keep="last")["row"].to_numpy())
        acc, pos = acc.iloc[keep], pos[keep]
    return acc.reset_index(drop=True), pos


def _on_time(
    acc: pd.DataFrame,
    day: date,
    deadlines: Mapping[str, time],
    departments: pd.Series,
    file_levels: Mapping[str, str],
) -> np.ndarray:
    """Received by the deadline of the row's file (a village's, a township batch's, a
    department's: :func:`huizong.schedule.deadline_level`). Unknown arrival = late."""
    if "received_at" not in acc.columns or acc.empty:
        return np.zeros(len(acc), dtype=bool)
    codes = acc["unit_code"].astype("str")
    files = acc["file_id"].astype("str") if "file_id" in acc.columns else codes
    levels = pd.Series(file_levels_of(files, codes, departments.astype("str")), index=acc.index)
    if file_levels:
        levels = files.map(file_levels).fillna(levels)
    return on_time_of(acc["received_at"], levels, day, deadlines)


def _assign(target: _Stats, idx: np.ndarray, src: _Stats) -> None:
    for name in ("s", "c", "a", "mx", "mn"):
        getattr(target, name)[idx] = getattr(src, name)
    for j, lines in enumerate(src.texts):
        target.texts[j][idx] = lines


# ---- frames ----------------------------------------------------------------------------


def _str_take(values: list | np.ndarray, idx: np.ndarray) -> pd.Series:
    """A ``str`` column built by index from few distinct values (-1 = NA): one Arrow take
    instead of converting millions of Python strings."""
    base = pd.array(np.asarray(values, dtype=object), dtype="str")
    return pd.Series(base.take(idx, allow_fill=True))


def _consolidated(
    period: str, out_units: pd.DataFrame, st: _Stats, expected: np.ndarray, layout: _Layout
) -> pd.DataFrame:
    n, k = len(out_units), len(layout.codes)
    num = st.s.astype(np.float64)
    c_num = st.c[:, layout.num_pos]
    if len(layout.mean_cols):
        with np.errstate(invalid="ignore", divide="ignore"):
            num[:, layout.mean_cols] = num[:, layout.mean_cols] / c_num[:, layout.mean_cols]
    num[:, layout.max_cols] = st.mx
    num[:, layout.min_cols] = st.mn
    num[c_num == 0] = np.nan
    value = np.full((n, k), np.nan)
    value[:, layout.num_pos] = num
    # texts: a table of the distinct lists and, per cell, its index into it (-1 = NA)
    text_idx = np.full((n, k), -1, dtype=np.int64)
    pieces: list[np.ndarray] = []
    offset = 0
    for j, pos in enumerate(layout.text_pos):
        lines = st.texts[j]
        given = np.flatnonzero(pd.notna(lines))
        text_idx[given, pos] = offset + np.arange(len(given))
        pieces.append(lines[given])
        offset += len(given)
    texts = np.concatenate(pieces) if pieces else np.zeros(0, dtype=object)
    status = np.where(st.c > 0, 0, np.where(st.a > 0, 2, 1))  # index into VALUE_STATUSES
    unit = np.repeat(np.arange(n), k)
    fields = {
        col: _str_take(_objects(out_units[src]), unit)
        for col, src in (
            ("unit_code", "code"),
            ("unit_name", "name"),
            ("kind", "kind"),
            ("parent_code", "parent_code"),
        )
    }
    frame = pd.DataFrame(
        {
            "period": _str_take([period], np.zeros(n * k, dtype=np.int64)),
            **fields,
            "level": out_units["level"].to_numpy(dtype=np.int64)[unit],
            "indicator": _str_take(layout.codes, np.tile(np.arange(k), n)),
            "value": value.ravel(),
            "value_text": _str_take(texts, text_idx.ravel()),
            "status": _str_take(list(frames.VALUE_STATUSES), status.ravel()),
            "reporting_units": st.c.ravel().astype(np.int64),
            "expected_units": expected.ravel().astype(np.int64),
        }
    )
    return frame[frames.CONSOLIDATED_COLUMNS]


def _missing(period: str, absent: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "period": period,
            "unit_code": absent["code"].to_numpy(),
            "unit_name": absent["name"].to_numpy(),
            "kind": absent["kind"].to_numpy(),
            "parent_code": absent["parent_code"].to_numpy(),
            "township_code": absent["township_code"].to_numpy(),
            "county_code": absent["county_code"].to_numpy(),
            "city_code": absent["city_code"].to_numpy(),
        }
    )
    for col in frame.columns:
        frame[col] = frame[col].astype("str")
    return frame[frames.MISSING_COLUMNS]


def _completeness(
    period: str,
    out_units: pd.DataFrame,
    expected: np.ndarray,
    reported: np.ndarray,
    on_time: np.ndarray,
    missing_list: np.ndarray,
) -> pd.DataFrame:
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(expected > 0, reported / np.maximum(expected, 1), np.nan)
    frame = pd.DataFrame(
        {
            "period": period,
            "unit_code": out_units["code"].to_numpy(),
            "unit_name": out_units["name"].to_numpy(),
            "level": out_units["level"].to_numpy(dtype=np.int64),
            "kind": out_units["kind"].to_numpy(),
            "expected_units": expected,
            "reported_units": reported,
            "missing_units": expected - reported,
            "reporting_rate": np.minimum(rate, 1.0).astype(np.float64),
            "on_time_units": on_time,
            "late_units": reported - on_time,
            "missing_list": missing_list,
        }
    )
    for col in ("period", "unit_code", "unit_name", "kind", "missing_list"):
        frame[col] = frame[col].astype("str")
    return frame[frames.COMPLETENESS_COLUMNS]


def _missing_lists(
    reporters: pd.DataFrame, absent: np.ndarray, anc: dict, levels: list[int], codes_at: dict
) -> np.ndarray:
    """ "code 名称" of missing reporters, "; "-joined in code order, for the geo units (in
    ``levels`` order) then the departments. Townships and departments list all; higher
    levels the first 200 and then "…等共N个（见 missing 表）" (the missing table has all)."""
    n_dep = int((reporters["kind"] == "department").sum())
    which = np.flatnonzero(absent)
    which = which[np.argsort(_objects(reporters["code"])[which].astype(str), kind="stable")]
    sub = reporters.iloc[which]
    entries = (sub["code"] + " " + sub["name"]).to_numpy(dtype=object)
    parts = []
    for lv in levels:
        n = len(codes_at[lv])
        pos = anc[lv][which]
        keep = pos >= 0
        pos, lines = pos[keep], entries[keep]
        total = np.bincount(pos, minlength=n)
        if lv < 4 and len(pos):
            order = np.argsort(pos, kind="stable")
            first = np.concatenate([[0], np.cumsum(total)])[pos[order]]
            rank = np.empty(len(pos), dtype=np.int64)
            rank[order] = np.arange(len(pos)) - first
            capped = rank < MISSING_LIST_CAP
            pos, lines = pos[capped], lines[capped]
        joined = _join_groups(lines, pos, n, _LIST_SEP)
        if lv < 4:
            over = np.flatnonzero(total > MISSING_LIST_CAP)
            joined[over] = [
                f"{joined[i]}{_LIST_SEP}…等共{total[i]}个（见 missing 表）" for i in over
            ]
        parts.append(joined)
    own = np.full(n_dep, None, dtype=object)
    n_vill = len(reporters) - n_dep
    dep_missing = which[which >= n_vill]
    own[dep_missing - n_vill] = entries[which >= n_vill]
    out = np.concatenate([*parts, own])
    out[pd.isna(out)] = ""
    return out
