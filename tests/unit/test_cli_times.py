"""Times the CLI prints read as the pages show them: Beijing time to the second, marked
(a trial saw ``2026-12-02 08:01:06.837247+00:00`` in ``huizong versions``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from huizong.catalogue import load_catalogue
from huizong.cli import main
from huizong.publish.warehouse import schema_statements

DAY = "2020-01-28"


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty warehouse (the shipped DDL) holding one published version of DAY."""
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for stmt in schema_statements(load_catalogue()):
            conn.exec_driver_sql(stmt)
        conn.execute(
            sa.text(
                "INSERT INTO publish_version (period, version, published_at, trigger, run_id,"
                " inputs, inputs_digest, tables_digest, changed_values, changed_units)"
                " VALUES (:p, 1, :at, 'nightly', 'scheduled__x', 210, 'a', 'b', 0, 0)"
            ),
            {"p": DAY, "at": "2026-12-02 08:01:06.837247+00:00"},
        )
    engine.dispose()
    monkeypatch.setenv("HUIZONG_HOME", str(tmp_path / "var"))
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", url)
    return url


def test_versions_lists_publication_times_in_beijing_time(warehouse: str, capsys) -> None:
    assert main(["versions", "--date", DAY]) == 0
    out = capsys.readouterr().out
    assert "2026-12-02 16:01:06 北京时间" in out
    assert "+00:00" not in out and ".837247" not in out


def test_asof_before_the_first_version_says_the_time_in_beijing_time(
    warehouse: str, capsys
) -> None:
    assert main(["asof", "--date", DAY, "--at", "2026-12-02T00:00:00+00:00"]) == 2
    err = capsys.readouterr().err
    assert "2026-12-02 08:00:00 北京时间" in err and "+00:00" not in err
