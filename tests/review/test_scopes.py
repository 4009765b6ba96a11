"""Scope membership: a steward's subtree by code prefix, departments under their parent."""

from __future__ import annotations

import pandas as pd
import pytest

from huizong.registry import load_registry
from huizong.registry.divisions import NATION_CODE
from huizong.review.scopes import ScopeError, check_scope, in_scope, unit_in_scope


@pytest.mark.parametrize(
    ("code", "scopes", "expected"),
    [
        ("130903001007", ["130903"], True),  # village in its county
        ("130903001", ["130903"], True),  # township in its county
        ("130903", ["130903"], True),  # the unit itself
        ("130902001001", ["130903"], False),  # other county
        ("1309", ["130903"], False),  # a parent is not in a child's scope
        ("130903D01", ["130903"], True),  # county department
        ("130903D01", ["1309"], True),  # ... also in its city
        ("1309D01", ["130903"], False),  # city department is not in a county's scope
        ("1309D01", ["1309"], True),
        ("130903D01", ["130903D01"], True),  # a department scope: only itself
        ("130903001007", ["130903D01"], False),
        ("130902001001", ["130903", "130902"], True),  # several scopes
        (None, ["130903"], False),  # no unit code: nobody's but the nation's
        (None, [NATION_CODE], True),
        ("999999999999", [NATION_CODE], True),
        ("130903001007", [], False),  # no assignment: nothing
        ("13090300100", ["130903"], True),  # malformed but under the prefix: county's problem
    ],
)
def test_unit_in_scope(code: str | None, scopes: list[str], expected: bool) -> None:
    assert unit_in_scope(code, scopes) is expected


def test_check_scope_raises_outside() -> None:
    check_scope("130903001007", ["130903"])
    with pytest.raises(ScopeError):
        check_scope("130902001001", ["130903"])


@pytest.mark.parametrize("scope", ["130903", "130902", "1309", "130903001"])
def test_in_scope_matches_registry_subtree(scope: str) -> None:
    """Prefix membership agrees with the registry's own ancestor columns for every unit."""
    units = load_registry(None, None).units
    expected = set(load_registry(None, None).subtree_codes(scope))
    # the registry's subtree of a geographic unit leaves departments attached to it by
    # parent_code only when they sit below it; add departments whose parent is in the subtree
    deps = units[units["kind"] == "department"]
    expected |= set(deps.loc[deps["parent_code"].isin(expected), "code"])
    mask = in_scope(units["code"], [scope])
    assert set(units.loc[mask.to_numpy(), "code"]) == expected
    assert len(expected) > 1


def test_in_scope_keeps_index_and_handles_na() -> None:
    codes = pd.Series(["130903001007", None, "130902001001"], index=[10, 20, 30], dtype="str")
    mask = in_scope(codes, ["130903"])
    assert mask.index.tolist() == [10, 20, 30]
    assert mask.tolist() == [True, False, False]
