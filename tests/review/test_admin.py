"""Scope management (``huizong review assign/revoke/scopes``): codes checked, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest

from huizong.review import admin
from huizong.settings import Settings

from .conftest import COUNTY_A, DEPT_A, VILLAGE_A


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "var")  # warehouse: a SQLite file created on first use


def test_assign_list_and_revoke(settings: Settings) -> None:
    assert admin.scopes(settings, "steward_a") == ()
    assert admin.assign(settings, "steward_a", [COUNTY_A, " 1309 ", COUNTY_A]) == (
        "1309",
        COUNTY_A,
    )
    assert admin.assign(settings, "steward_a", [DEPT_A, "1309"]) == ("1309", COUNTY_A, DEPT_A)
    assert admin.scopes(settings, "steward_b") == ()
    assert admin.revoke(settings, "steward_a", ["1309", DEPT_A]) == (COUNTY_A,)
    assert admin.scopes(settings, "steward_a") == (COUNTY_A,)


def test_unknown_codes_are_refused_and_nothing_is_assigned(settings: Settings) -> None:
    with pytest.raises(admin.UnknownUnit, match="1399, 13090"):
        admin.assign(settings, "steward_a", [VILLAGE_A, "1399", "13090"])
    with pytest.raises(admin.UnknownUnit, match="no unit code"):
        admin.assign(settings, "steward_a", [" "])
    assert admin.scopes(settings, "steward_a") == ()
