"""The day page's completeness, missing units, names and day-on-day change on both
dialects (PostgreSQL's DATE and bound IN lists differ from SQLite's)."""

from __future__ import annotations

from huizong.review import queries, store

from .conftest import COUNTY_A, MISSING_A, MISSING_A_DEPT, PERIOD, PREVIOUS_DAY, Warehouse


def test_completeness_and_missing_in_scope(warehouse: Warehouse) -> None:
    comp = queries.completeness(warehouse.engine, PERIOD, [COUNTY_A])
    assert comp[
        ["unit_code", "expected_units", "reported_units", "late_units"]
    ].values.tolist() == [["130903", 3, 2, 1]]
    missing = queries.missing_reporters(warehouse.engine, PERIOD, [COUNTY_A])
    assert missing["unit_code"].tolist() == [MISSING_A[0], MISSING_A_DEPT[0]]
    assert queries.completeness(warehouse.engine, PERIOD, []).empty


def test_unit_names_and_change(warehouse: Warehouse) -> None:
    names = store.unit_names(warehouse.engine, ["130903", "130903001", "999999", None])
    assert names == {"130903": "运河区", "130903001": "南环中路街道"}
    got = queries.totals(warehouse.engine, PERIOD, "persons_screened", ["1309"])
    assert got["unit_code"].tolist() == ["1309", "130902", "130902001", "130903", "130903001"]
    assert got["change"].tolist() == [10.0, -5.0, -5.0, 15.0, 15.0]
    assert set(got["previous_period"]) == {PREVIOUS_DAY.isoformat()}
    first = queries.totals(warehouse.engine, PREVIOUS_DAY, "persons_screened", ["1309"])
    assert first["change"].isna().all() and first["previous_period"].isna().all()
