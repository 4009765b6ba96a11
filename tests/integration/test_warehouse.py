"""The warehouse on real SQLite and PostgreSQL: round trip, idempotence, atomicity, locking."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time
from datetime import date

import pandas as pd
import psycopg
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.publish.warehouse import (
    LOCK_NAMESPACE,
    REPORT_META,
    SPECS,
    TABLES,
    DayTables,
    normalise_url,
    period_lock_key,
    publish_tables,
    read_table,
)
from huizong.registry import Registry, load_registry

CAT = load_catalogue()
DAY_A = date(2026, 11, 25)
DAY_B = date(2026, 11, 26)
UNITS = [  # (code, name, level, kind, parent)
    ("1309", "沧州市", 2, "city", "13"),
    ("130903", "运河区", 3, "county", "1309"),
    ("130903001", "水月寺街道", 4, "township", "130903"),
    ("130903D01", "运河区教育局", 4, "department", "130903"),
]
TRICKY = 'line one\nline "two", with comma'  # must survive COPY CSV and executemany


@pytest.fixture(scope="module")
def registry():
    """The shipped registry cut to the 运河区 subtree (org_unit is replaced on every publish)."""
    full = load_registry()
    u = full.units
    keep = u["code"].isin(["13", "1309", "1309D01"]) | u["code"].str.startswith("130903")
    return Registry(units=u[keep].reset_index(drop=True), root=full.root)


def make_day(day: date, bump: int = 0) -> DayTables:
    """A small but complete day: every status, 0 vs NA, text with newlines and quotes."""
    iso = day.isoformat()
    rows = []
    for u, (code, name, level, kind, parent) in enumerate(UNITS):
        for i, ind in enumerate(CAT.indicators):
            status = ("reported", "not_reported", "not_applicable")[(u + i) % 3]
            value = float(i * 10 + u + bump) if status == "reported" else float("nan")
            if ind.code == "persons_screened" and status == "reported":
                value = 0.0  # a real zero report
            rows.append(
                {
                    "period": iso,
                    "unit_code": code,
                    "unit_name": name,
                    "level": level,
                    "kind": kind,
                    "parent_code": parent,
                    "indicator": ind.code,
                    "value": float("nan") if not ind.is_numeric else value,
                    "value_text": (f"{name}: {TRICKY}" if status == "reported" else pd.NA)
                    if not ind.is_numeric
                    else pd.NA,
                    "status": status,
                    "reporting_units": 3 if status == "reported" else 0,
                    "expected_units": 3,
                }
            )
    consolidated = pd.DataFrame(rows, columns=frames.CONSOLIDATED_COLUMNS)
    consolidated["reporting_units"] = consolidated["reporting_units"].astype("int64")
    completeness = pd.DataFrame(
        {
            "period": iso,
            "unit_code": [u[0] for u in UNITS],
            "unit_name": [u[1] for u in UNITS],
            "level": [u[2] for u in UNITS],
            "kind": [u[3] for u in UNITS],
            "expected_units": 3,
            "reported_units": 2,
            "missing_units": 1,
            "reporting_rate": 2 / 3,
            "on_time_units": [1, 1, 1, pd.NA],
            "late_units": 1,
            "missing_list": "130903001003 某某社区",
        }
    )
    completeness["on_time_units"] = completeness["on_time_units"].astype("Int64")
    missing = pd.DataFrame(
        [[iso, "130903001003", "某某社区", "village", "130903001", "130903001", "130903", "1309"]],
        columns=frames.MISSING_COLUMNS,
    )
    issue = {
        "period": [iso, pd.NA],
        "file_id": ["f" * 64, "e" * 64],
        "file_name": ["a.xlsx", "b.csv"],
        "sheet": ["Sheet1", ""],
        "row_number": [5, 7],
        "unit_code": ["130903001001", pd.NA],
        "unit_name": ["甲村", ""],
        "column": ["masks_in_stock", pd.NA],
        "value": [str(999999 + bump), TRICKY],
        "rule": ["max:masks_in_stock", "period_parsed"],
        "severity": ["error", "error"],
        "message_zh": ["超过上限", "日期无法识别"],
        "message_en": ["above the maximum", "period not recognised"],
    }
    quarantine = pd.DataFrame(issue, columns=frames.ISSUE_COLUMNS)
    warnings = quarantine.iloc[:1].assign(severity="warning", rule="warn:masks_in_stock")
    ledger = pd.DataFrame(
        {
            "period": [iso, "2026-11-20"],
            "file_id": ["f" * 64, "e" * 64],
            "file_name": ["a.xlsx", "b.csv"],
            "source": ["a.xlsx", "sub/b.csv"],
            "size_bytes": [1234, 99],
            "received_at": pd.to_datetime(
                ["2026-11-25T10:00:00.123456+08:00", "2026-11-26T01:00:00Z"],
                utc=True,
                format="ISO8601",
            ),
            "form": "epidemic_daily",
            "units": ["130903001001,130903001002", "\\N"],  # COPY's text NULL marker
            "rows_received": [3, 1],
            "rows_accepted": [2, 0],
            "rows_quarantined": [1, 1],
            "rows_superseded": [0, 0],
            "status": ["partly_quarantined", "quarantined"],
            "duplicate_of": [pd.NA, pd.NA],
            "extra_columns": ["", "备注"],
            "message": [pd.NA, TRICKY],
        }
    )
    report = make_report(iso, bump)
    return DayTables(consolidated, completeness, missing, quarantine, warnings, ledger, report)


def make_report(iso: str, bump: int) -> pd.DataFrame:
    units = ["130903001001", "130903001002", "130903001001"]
    report = pd.DataFrame(
        {
            "file_id": ["f" * 64, "f" * 64, "d" * 64],
            "file_name": "a.xlsx",
            "sheet": "Sheet1",
            "row_number": [2, 3, 2],
            "unit_code": units,
            "unit_name": ["甲村", "乙村", "甲村"],
            "period": iso,
            "period_raw": iso,
            "claimed_kind": "village",
            "received_at": pd.Timestamp("2026-11-25 02:00", tz="UTC"),
            "not_applicable": ["", "masks_in_stock", ""],
            "cell_errors": "[]",
            "coercions": ["[]", '[{"column": "leaflets", "raw": "3张", "value": 3}]', "[]"],
            "disposition": ["candidate", "candidate", "superseded"],
            "superseded_by": [pd.NA, pd.NA, "f" * 64],
            "superseded_reason": [pd.NA, pd.NA, "later revision"],
        }
    )
    for i, ind in enumerate(CAT.indicators):
        if ind.is_numeric:
            report[ind.code] = pd.array([i + bump, 0, 5], dtype="Int64")
        else:
            report[ind.code] = pd.array([TRICKY, pd.NA, "x"], dtype="str")
    report.loc[1, "masks_in_stock"] = pd.NA  # not applicable → NULL, never 0
    return report


def snapshot(url: str) -> dict[str, pd.DataFrame]:
    return {t: read_table(url, t, catalogue=CAT) for t in TABLES}


def assert_same(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    assert left.keys() == right.keys()
    for table in left:
        pd.testing.assert_frame_equal(left[table], right[table], obj=table)


def test_round_trip_counts_nulls_and_types(warehouse_url, registry):
    day = make_day(DAY_A)
    counts = publish_tables(warehouse_url, DAY_A, day, registry, CAT).rows
    assert counts["consolidated"] == len(UNITS) * len(CAT.indicators)
    assert counts["report"] == 2  # the superseded row is not published
    assert counts["org_unit"] == len(registry.units)

    got = snapshot(warehouse_url)
    for table, n in counts.items():
        assert len(got[table]) == n, table

    cons = got["consolidated"]
    want = day.consolidated.sort_values(["unit_code", "indicator"]).reset_index(drop=True)
    assert (cons["period"] == "2026-11-25").all()
    # NA stays NULL (never 0) and 0 stays 0, value for value
    pd.testing.assert_series_equal(cons["value"], want["value"], check_names=False)
    assert cons.loc[cons["status"] != "reported", "value"].isna().all()
    zero = cons[(cons["indicator"] == "persons_screened") & (cons["status"] == "reported")]
    assert len(zero) and (zero["value"] == 0).all()
    texts = cons["value_text"].dropna()
    assert len(texts) and texts.str.endswith(TRICKY).all()

    rep = got["report"].set_index("unit_code")
    assert list(got["report"].columns) == [c for c, _ in REPORT_META] + list(CAT.codes)
    assert rep.loc["130903001002", "masks_in_stock"] is pd.NA
    assert rep.loc["130903001002", "persons_screened"] == 0
    assert rep.loc["130903001001", "not_applicable"] == ""  # empty text, not NULL
    assert rep.loc["130903001001", "problems"] == TRICKY
    assert pd.isna(rep.loc["130903001002", "problems"])
    assert str(rep["persons_screened"].dtype) == "Int64"

    led = got["submission_ledger"].set_index("file_id")
    assert led.loc["e" * 64, "stated_period"] == "2026-11-20"
    assert (led["period"] == "2026-11-25").all()
    assert led.loc["f" * 64, "received_at"] == pd.Timestamp("2026-11-25 02:00:00.123456", tz="UTC")
    assert led.loc["e" * 64, "message"] == TRICKY
    assert pd.isna(led.loc["f" * 64, "message"])
    assert led.loc["f" * 64, "extra_columns"] == ""
    assert led.loc["e" * 64, "units"] == "\\N"

    quar = got["quarantine"]
    assert quar["stated_period"].isna().sum() == 1
    assert quar["column"].isna().sum() == 1
    assert got["completeness"]["on_time_units"].isna().sum() == 1

    org = got["org_unit"].set_index("code")
    assert org.loc["130903D01", "kind"] == "department"
    assert pd.isna(org.loc["1309", "township_code"])


def test_schema_files_match_the_specs(warehouse_url, registry):
    publish_tables(warehouse_url, DAY_A, make_day(DAY_A), registry, CAT)
    engine = create_engine(normalise_url(warehouse_url), poolclass=NullPool)
    try:
        insp = inspect(engine)
        for table, spec in SPECS.items():
            assert [c["name"] for c in insp.get_columns(table)] == [c for c, _ in spec], table
        pk = insp.get_pk_constraint("consolidated")["constrained_columns"]
        assert pk == ["period", "unit_code", "indicator"]
    finally:
        engine.dispose()


def test_publishing_twice_gives_identical_tables(warehouse_url, registry):
    publish_tables(warehouse_url, DAY_A, make_day(DAY_A), registry, CAT)
    first = snapshot(warehouse_url)
    publish_tables(warehouse_url, DAY_A, make_day(DAY_A), registry, CAT)
    assert_same(first, snapshot(warehouse_url))


def test_republishing_a_day_leaves_other_days_alone(warehouse_url, registry):
    publish_tables(warehouse_url, DAY_A, make_day(DAY_A), registry, CAT)
    publish_tables(warehouse_url, DAY_B, make_day(DAY_B, bump=100), registry, CAT)
    b_before = {t: read_table(warehouse_url, t, DAY_B, catalogue=CAT) for t in TABLES[:-1]}

    publish_tables(warehouse_url, DAY_A, make_day(DAY_A, bump=7), registry, CAT)

    assert_same(b_before, {t: read_table(warehouse_url, t, DAY_B, catalogue=CAT) for t in b_before})
    a = read_table(warehouse_url, "report", DAY_A, catalogue=CAT).set_index("unit_code")
    assert a.loc["130903001001", "households_visited"] == 1 + 7
    assert len(read_table(warehouse_url, "consolidated")) == 2 * len(UNITS) * len(CAT.indicators)


def test_a_failure_midway_leaves_the_previous_publication_intact(warehouse_url, registry):
    publish_tables(warehouse_url, DAY_A, make_day(DAY_A), registry, CAT)
    publish_tables(warehouse_url, DAY_B, make_day(DAY_B), registry, CAT)
    before = snapshot(warehouse_url)

    broken = make_day(DAY_A, bump=50)
    # the ledger goes in after consolidated, completeness, ... have been replaced:
    # status is NOT NULL, so the database itself rejects the sixth table
    broken.ledger.loc[1, "status"] = pd.NA
    with pytest.raises((IntegrityError, sqlite3.IntegrityError, psycopg.errors.NotNullViolation)):
        publish_tables(warehouse_url, DAY_A, broken, registry, CAT)

    assert_same(before, snapshot(warehouse_url))


def test_an_indicator_new_to_the_catalogue_becomes_a_report_column(warehouse_url, registry):
    old = dataclasses.replace(CAT, indicators=CAT.indicators[:-1])
    day = make_day(DAY_A)
    day.report = day.report.drop(columns=[CAT.indicators[-1].code])
    day.consolidated = day.consolidated[day.consolidated["indicator"] != CAT.indicators[-1].code]
    publish_tables(warehouse_url, DAY_A, day, registry, old)
    assert CAT.codes[-1] not in read_table(warehouse_url, "report").columns

    publish_tables(warehouse_url, DAY_B, make_day(DAY_B), registry, CAT)
    rep = read_table(warehouse_url, "report", catalogue=CAT)
    last = CAT.codes[-1]
    assert rep.loc[rep["period"] == DAY_A.isoformat(), last].isna().all()
    assert (rep.loc[rep["period"] == DAY_B.isoformat(), last] == TRICKY).any()


def test_rows_of_another_period_are_refused_before_any_write(tmp_path, registry):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    day = make_day(DAY_A)
    day.consolidated.loc[0, "period"] = DAY_B.isoformat()
    with pytest.raises(ValueError, match="2026-11-26"):
        publish_tables(url, DAY_A, day, registry, CAT)
    assert not (tmp_path / "w.sqlite").exists()


def test_duplicate_keys_are_refused_before_any_write(tmp_path, registry):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    day = make_day(DAY_A)
    day.report.loc[2, "disposition"] = "candidate"  # two live rows for one village
    with pytest.raises(ValueError, match="report: more than one row"):
        publish_tables(url, DAY_A, day, registry, CAT)
    assert not (tmp_path / "w.sqlite").exists()


@pytest.mark.postgres
def test_plain_postgresql_url_is_mapped_to_psycopg3(pg_url, registry):
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    assert plain != pg_url
    publish_tables(plain, DAY_A, make_day(DAY_A), registry, CAT)
    assert len(read_table(plain, "completeness")) == len(UNITS)


@pytest.mark.postgres
def test_same_day_publications_serialise_on_the_advisory_lock(pg_url, registry):
    publish_tables(pg_url, DAY_A, make_day(DAY_A), registry, CAT)  # schema exists now
    engine = create_engine(normalise_url(pg_url), poolclass=NullPool)
    errors: list[BaseException] = []

    def publish() -> None:
        try:
            publish_tables(pg_url, DAY_A, make_day(DAY_A, bump=3), registry, CAT)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    try:
        with engine.connect() as holder, engine.connect() as watcher:
            holder.execute(
                text("SELECT pg_advisory_xact_lock(:ns, :key)"),
                {"ns": LOCK_NAMESPACE, "key": period_lock_key(DAY_A)},
            )
            worker = threading.Thread(target=publish)
            worker.start()
            waiting = 0
            for _ in range(100):
                waiting = watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND NOT granted AND classid = :ns AND objid = :key AND objsubid = 2"
                    ),
                    {"ns": LOCK_NAMESPACE, "key": period_lock_key(DAY_A)},
                ).scalar_one()
                watcher.rollback()
                if waiting:
                    break
                time.sleep(0.1)
            assert waiting == 1, "the publisher never asked for the period's advisory lock"
            assert worker.is_alive()
            # still the old data while the lock is held
            old = read_table(pg_url, "report", DAY_A, catalogue=CAT).set_index("unit_code")
            assert old.loc["130903001001", "households_visited"] == 1
            holder.rollback()  # releases the xact lock
            worker.join(timeout=30)
        assert not worker.is_alive() and not errors, errors
        new = read_table(pg_url, "report", DAY_A, catalogue=CAT).set_index("unit_code")
        assert new.loc["130903001001", "households_visited"] == 1 + 3
    finally:
        engine.dispose()


def test_reading_some_units_equals_the_whole_day_filtered(warehouse_url, registry, monkeypatch):
    """A unit's subtree is read by bound unit codes (one statement per batch): the same
    rows, typed the same, as the whole day filtered afterwards, on both dialects."""
    from huizong.publish import warehouse as publish_warehouse
    from huizong.publish.warehouse import read_period_table

    publish_tables(warehouse_url, DAY_A, make_day(DAY_A), registry, CAT)
    wanted = ["130903", "130903001001", "not-a-unit"]
    for table in ("consolidated", "report", "completeness"):
        whole = read_table(warehouse_url, table, DAY_A, catalogue=CAT)
        some = read_table(warehouse_url, table, DAY_A, catalogue=CAT, units=wanted)
        expect = whole[whole["unit_code"].isin(wanted)].reset_index(drop=True)
        assert len(expect), table
        pd.testing.assert_frame_equal(some, expect, obj=table)
    monkeypatch.setattr(publish_warehouse, "_UNITS_PER_STATEMENT", 2)  # batches of two
    batched = read_table(warehouse_url, "consolidated", DAY_A, units=wanted)
    pd.testing.assert_frame_equal(
        batched, read_table(warehouse_url, "consolidated", DAY_A, units=wanted[:2])
    )
    assert len(read_table(warehouse_url, "consolidated", DAY_A, units=[])) == 0
    none = read_period_table(warehouse_url, "period_consolidated", "week", DAY_A, units=wanted)
    assert len(none) == 0  # no period published: an empty frame, not an error
