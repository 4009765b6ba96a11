"""Defect 12: the warehouse and the Airflow metadata database are readable by their owner
only (they hold every report, and Airflow's holds connections and the users' sessions)."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from huizong.publish.warehouse import normalise_url
from huizong.review.admin import assign

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual 022: files would be created world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_a_new_sqlite_warehouse_is_private(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "var" / "warehouse.sqlite"
    engine = sa.create_engine(normalise_url(f"sqlite:///{path}"))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    assert path.exists() and _private(path)


def test_an_existing_world_readable_warehouse_is_tightened(
    tmp_path: Path, open_umask: None
) -> None:
    path = tmp_path / "warehouse.sqlite"
    sa.create_engine(f"sqlite:///{path}").connect().close()
    path.chmod(0o644)
    from huizong.settings import Settings

    assign(Settings(home=tmp_path, warehouse_url=f"sqlite:///{path}"), "s", ["130903"])
    assert _private(path)


@pytest.mark.e2e
def test_airflow_home_made_by_make_is_private(tmp_path: Path, open_umask: None) -> None:
    home = tmp_path / "var"
    env = {**os.environ, "HUIZONG_HOME": str(home), "AIRFLOW_HOME": str(home / "airflow")}
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    done = subprocess.run(
        ["make", "-C", str(ROOT), "airflow-db", f"HUIZONG_HOME={home}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (home / "airflow" / "airflow.db").exists()
    assert _private(home / "airflow")
    assert _private(home / "airflow" / "airflow.db")


def test_the_home_resolved_by_every_entry_point_is_private(
    tmp_path: Path, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store, the steps' files and the workbooks live under the home: with the home
    owner-only, the 0644 files the usual umask gives them are not readable by others."""
    from huizong.settings import Settings

    fresh, existing = tmp_path / "fresh" / "var", tmp_path / "existing"
    existing.mkdir(mode=0o755)
    existing.chmod(0o755)
    for home in (fresh, existing):
        monkeypatch.setenv("HUIZONG_HOME", str(home))
        monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'w.sqlite'}")
        settings = Settings.resolve()
        assert settings.home == home and _private(home)
