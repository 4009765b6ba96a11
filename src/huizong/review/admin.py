"""Scope management for administrators (``huizong review assign`` / ``huizong review scopes``).

A steward sees and acts on the subtrees of the org units assigned to them; a reader
(``--role reader``, an agency) only downloads their reports. A code that is
not in the registry would silently give access to nothing (or, mistyped, to the wrong
subtree), so codes are checked against the deployment's registry before they are stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine

from huizong import warehouse
from huizong.registry import Registry
from huizong.registry.divisions import NATION_CODE
from huizong.review import store
from huizong.settings import Settings


class UnknownUnit(ValueError):
    """A unit code that is not in the registry (nothing is assigned)."""


@contextmanager
def warehouse_engine(settings: Settings) -> Iterator[Engine]:
    """The warehouse with the review tables present (created if missing)."""
    with warehouse.engine(settings.warehouse, "huizong-review") as engine:
        store.ensure_schema(engine)
        yield engine


def check_units(codes: Iterable[str], registry: Registry) -> list[str]:
    """The codes, stripped and de-duplicated in order; UnknownUnit names every bad one."""
    wanted = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not wanted:
        raise UnknownUnit("no unit code given")
    known = set(registry.units["code"].astype("str")) | {NATION_CODE}
    bad = [c for c in wanted if c not in known]
    if bad:
        raise UnknownUnit(f"not in the registry: {', '.join(bad)}")
    return wanted


def assign(
    settings: Settings,
    username: str,
    codes: Iterable[str],
    registry: Registry | None = None,
    role: str = "steward",
) -> tuple[str, ...]:
    """Assign units to a user in ``role`` (idempotent); returns all their units in it."""
    from huizong.registry import registry_for

    username = username.strip()
    if not username:
        raise ValueError("a user name is required")
    wanted = check_units(codes, registry or registry_for(settings))
    with warehouse_engine(settings) as engine:
        store.assign_scope(engine, username, wanted, role)  # an existing one is kept
        return store.scopes_for(engine, username, role)


def revoke(
    settings: Settings, username: str, codes: Iterable[str], role: str = "steward"
) -> tuple[str, ...]:
    """Take units away from a user in ``role``; returns the units they keep in it."""
    with warehouse_engine(settings) as engine:
        for code in codes:
            store.revoke_scope(engine, username.strip(), code.strip(), role)
        return store.scopes_for(engine, username.strip(), role)


def scopes(settings: Settings, username: str, role: str = "steward") -> tuple[str, ...]:
    """The units assigned to a user in ``role`` (empty: nothing in that role)."""
    with warehouse_engine(settings) as engine:
        return store.scopes_for(engine, username.strip(), role)
