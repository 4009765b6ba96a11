"""Shared fixtures: a throw-away PostgreSQL database and a warehouse URL on both dialects.

PostgreSQL tests run against a real server (``HUIZONG_TEST_PG_ADMIN_URL``, default the
local cluster with trust auth). Without one they are skipped, unless
``HUIZONG_REQUIRE_PG=1`` (CI), where an unreachable server fails the run instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _admin_url() -> str:
    return os.environ.get("HUIZONG_TEST_PG_ADMIN_URL", DEFAULT_PG_ADMIN_URL)


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """Create ``huizong_test_<random>`` on the test server; drop it afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.pool import NullPool

    admin = make_url(_admin_url())
    if admin.drivername in ("postgresql", "postgres"):
        admin = admin.set(drivername="postgresql+psycopg")
    engine = create_engine(
        admin,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 3},
    )
    name = f"huizong_test_{uuid.uuid4().hex[:12]}"
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        engine.dispose()
        where = admin.render_as_string(hide_password=True)
        if os.environ.get("HUIZONG_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL not reachable at {where} (HUIZONG_REQUIRE_PG=1): {exc}")
        pytest.skip(
            f"PostgreSQL not reachable at {where}; start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
            "or set HUIZONG_TEST_PG_ADMIN_URL"
        )
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        engine.dispose()


@pytest.fixture
def fresh_pg():
    """``fresh_pg()`` makes one more fresh database (a context manager) inside a test.

    A fixture, not ``from conftest import …`` at run time: by then ``conftest`` may be
    another folder's conftest module, and the import fails only in a whole-suite run."""
    return fresh_pg_database


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database for one test."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture(scope="module")
def module_pg_url() -> Iterator[str]:
    """A fresh database shared by one test module (e.g. for an expensive reference run)."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A warehouse URL on SQLite (a file in tmp_path) and on PostgreSQL (``pg_url``)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wh' / 'warehouse.sqlite'}"
    else:
        yield request.getfixturevalue("pg_url")
