"""Versions: the diff between two publications, and the decision of a version number."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huizong.publish import versions

KEY = ["unit_code", "indicator"]
VALUES = ["value", "status"]


def _frame(rows: dict[tuple[str, str], tuple[float | None, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [(u, i, v, s) for (u, i), (v, s) in sorted(rows.items())],
        columns=[*KEY, *VALUES],
    )
    frame.insert(0, "period", "2020-01-28")
    frame["value"] = frame["value"].astype("float64")
    frame["status"] = frame["status"].astype("str")
    return frame


cells = st.dictionaries(
    st.tuples(st.sampled_from(["1309", "130921", "130921100"]), st.sampled_from(["a", "b", "c"])),
    st.tuples(st.one_of(st.none(), st.integers(0, 5).map(float)), st.sampled_from(["r", "n"])),
    max_size=9,
)


def _apply(old: pd.DataFrame, diff: pd.DataFrame, side: str) -> pd.DataFrame:
    """Rebuild one side from the other and the diff (``side`` = the side to rebuild)."""
    gone = "added" if side == "old" else "removed"
    base = old.set_index(KEY)
    for row in diff.itertuples(index=False):
        key = (row.unit_code, row.indicator)
        if row.change == gone:
            base = base.drop(index=key)
        else:
            base.loc[key, VALUES] = [getattr(row, f"{side}_{c}") for c in VALUES]
            base.loc[key, "period"] = "2020-01-28"
    out = base.reset_index().sort_values(KEY).reset_index(drop=True)
    out["value"] = out["value"].astype("float64")
    return out[["period", *KEY, *VALUES]]


@settings(max_examples=80, deadline=None)
@given(old=cells, new=cells)
def test_the_diff_rebuilds_either_publication_from_the_other(old, new) -> None:
    a, b = _frame(old), _frame(new)
    diff = versions.diff_rows(a, b, KEY)
    assert not diff.duplicated(KEY).any()
    pd.testing.assert_frame_equal(_apply(a, diff, "new"), b, check_dtype=False)
    pd.testing.assert_frame_equal(_apply(b, diff, "old"), a, check_dtype=False)
    unchanged = set(old) & set(new)
    unchanged = {k for k in unchanged if old[k] == new[k]}
    assert not set(map(tuple, diff[KEY].values)) & unchanged


def test_missing_equals_missing_and_zero_is_not_missing() -> None:
    a = _frame({("1309", "a"): (None, "n"), ("1309", "b"): (None, "n")})
    b = _frame({("1309", "a"): (None, "n"), ("1309", "b"): (0.0, "r")})
    diff = versions.diff_rows(a, b, KEY)
    assert diff[KEY].values.tolist() == [["1309", "b"]]
    assert diff["change"].tolist() == ["changed"]


def _plan(latest, had_rows, digest="d2", old=None, new=None):
    empty = {t: pd.DataFrame(columns=["period", *k]) for t, k in versions.VERSIONED.items()}
    return versions.plan_version(
        day="2020-01-28",
        latest=latest,
        had_rows=had_rows,
        digest=digest,
        provenance=versions.Provenance("correction", "run-2"),
        inputs=["f1", "f2"],
        old=old or empty,
        new=new or empty,
        causes=pd.Series(dtype="str"),
        now=datetime(2020, 1, 29, tzinfo=UTC),
    )


def test_first_publish_is_version_one_and_stores_no_history() -> None:
    plan = _plan(None, had_rows=False)
    assert (plan.version, plan.unchanged, plan.changes) == (1, False, {})
    assert plan.record["inputs"] == 2 and plan.backfill_first is None


def test_identical_tables_make_no_version() -> None:
    plan = _plan((3, "d2"), had_rows=True, digest="d2")
    assert (plan.version, plan.unchanged) == (3, True)


def test_a_day_published_before_versions_becomes_version_one() -> None:
    plan = _plan(None, had_rows=True)
    assert plan.version == 2
    assert plan.backfill_first["version"] == 1 and plan.backfill_first["published_at"] is None
    assert set(plan.changes) == set(versions.VERSIONED)


def test_an_unknown_trigger_is_refused_in_both_languages() -> None:
    with pytest.raises(ValueError, match=r"发布触发方式.*unknown publish trigger"):
        versions.Provenance("whenever")


def test_unit_causes_name_the_changed_reporters_below_each_unit() -> None:
    units = pd.DataFrame(
        {
            "code": ["130921100201", "130921100202"],
            "province_code": ["13", "13"],
            "city_code": ["1309", "1309"],
            "county_code": ["130921", "130921"],
            "township_code": ["130921100", "130921100"],
            "parent_code": ["130921100", "130921100"],
        }
    )
    reporters = pd.DataFrame(
        {"unit_code": ["130921100201"], "cause": ["130921100201 东关村：更正"]}
    )
    causes = versions.unit_causes(reporters, units)
    assert set(causes.index) == {"13", "1309", "130921", "130921100", "130921100201"}
    assert causes["130921"] == "更正：东关村"


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.sampled_from(["01", "02", "03"]), st.integers(1, 4), st.integers(1, 9)),
        st.sampled_from(["更正 a", "新报送 b", "撤回 c", "数值变化 d"]),
        min_size=1,
        max_size=40,
    )
)
def test_unit_causes_are_the_first_sorted_causes_of_each_subtree(
    reporters_of: dict[tuple[str, int, int], str],
) -> None:
    """Each unit (and reporter) names each distinct cause of its subtree once, with the
    first CAUSE_CAP reporters it concerns, then how many in all — whatever the order the
    reporters come in (trial: one file's cause repeated 5× in a cell)."""
    codes = {k: f"13{k[0]}{k[1]:02d}{k[2]:03d}" for k in reporters_of}
    units = pd.DataFrame(
        {
            "code": [codes[k] for k in reporters_of],
            "province_code": "13",
            "city_code": [f"13{k[0]}" for k in reporters_of],
            "county_code": [f"13{k[0]}{k[1]:02d}" for k in reporters_of],
            "township_code": pd.NA,
            "parent_code": [f"13{k[0]}{k[1]:02d}" for k in reporters_of],
        }
    )
    lines = {codes[k]: f"{codes[k]}：{cause}" for k, cause in reporters_of.items()}
    reporters = pd.DataFrame({"unit_code": list(lines), "cause": list(lines.values())})
    causes = versions.unit_causes(reporters.iloc[::-1], units)
    below: dict[str, set[str]] = {}
    for code, line in lines.items():
        for unit in (code, "13", code[:4], code[:6]):
            below.setdefault(unit, set()).add(line)
    assert set(causes.index) == set(below)
    for unit, found in below.items():
        by_cause: dict[str, list[str]] = {}
        for line in sorted(found):  # each cause once, its reporters in code order
            who, _, what = line.partition("：")
            by_cause.setdefault(what, []).append(who)
        parts = []
        for what, whos in by_cause.items():
            more = f"等共{len(whos)}个单位" if len(whos) > versions.CAUSE_CAP else ""
            parts.append(f"{what}：{'、'.join(whos[: versions.CAUSE_CAP])}{more}")
        assert causes[unit] == "; ".join(parts)
        assert len(causes[unit].split("; ")) == len(by_cause)  # never a cause twice


reporting = st.dictionaries(
    st.tuples(st.sampled_from(["1309", "130921", "130921100"]), st.sampled_from(["a", "b", "c"])),
    st.integers(0, 3),
)


@settings(max_examples=60, deadline=None)
@given(old=cells, new=cells, old_rep=reporting, new_rep=reporting)
def test_values_changed_counts_indicator_values_not_reporting_units(
    old, new, old_rep, new_rep
) -> None:
    """``changed_values`` is the cells whose value or status differ, or that appear on one
    side only; a cell whose only change is ``reporting_units`` is not counted (a trial)."""

    def with_reporting(cells_, rep):
        frame = _frame(cells_)
        keys = zip(frame["unit_code"], frame["indicator"], strict=True)
        frame["reporting_units"] = [rep.get(k, 1) for k in keys]
        return frame

    a, b = with_reporting(old, old_rep), with_reporting(new, new_rep)
    base = {t: pd.DataFrame(columns=["period", *k]) for t, k in versions.VERSIONED.items()}
    plan = versions.plan_version(
        day="2020-01-28",
        latest=(1, "d1"),
        had_rows=True,
        digest="d2",
        provenance=versions.Provenance("correction", "run-2"),
        inputs=["f1"],
        old={**base, "consolidated": a},
        new={**base, "consolidated": b},
        causes=pd.Series(dtype="str"),
        now=datetime(2020, 1, 29, tzinfo=UTC),
    )
    expected = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
    assert plan.record["changed_values"] == len(expected)
    assert plan.record["changed_units"] == len({u for u, _ in expected})
