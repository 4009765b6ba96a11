"""Airflow test environment: an isolated AIRFLOW_HOME with a migrated SQLite metadata DB.

The environment is set when this conftest is imported, before any test module imports
Airflow (Airflow reads its configuration once, at import).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
_HOME = Path(tempfile.mkdtemp(prefix="huizong-airflow-test-"))

os.environ.update(
    {
        "AIRFLOW_HOME": str(_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
        "GX_ANALYTICS_ENABLED": "false",
    }
)


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[Path]:
    """Migrate the metadata DB once per session (about 15 s)."""
    airflow = Path(sys.executable).with_name("airflow")
    done = subprocess.run(
        [str(airflow), "db", "migrate"], capture_output=True, text=True, env=os.environ.copy()
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    yield _HOME
