"""Sign-off: a day a county steward confirmed is never changed silently. A correction
afterwards publishes a restatement (a new version, flagged, naming whose sign-off), with
its change report, and the steward responsible for the unit gets the notice by mail.
A change elsewhere (another county) is a new version, not a restatement of this one.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from helpers.corrections import correct_planted_value
from helpers.smtp import smtp_receiver
from huizong.pipeline import run_day
from huizong.publish.warehouse import read_changes, read_versions
from huizong.review import signoff, store
from huizong.review.scopes import ScopeError
from huizong.settings import Settings

pytestmark = pytest.mark.e2e

DAY = date(2020, 1, 28)


@pytest.fixture
def demo(tmp_path, warehouse_url: str) -> Settings:
    from huizong.demo import generate_demo_day

    settings = Settings(
        home=tmp_path / "var",
        inbox_root=tmp_path / "inbox",
        warehouse_url=warehouse_url,
        sources_file=tmp_path / "sources.toml",
    )
    generate_demo_day(DAY, settings.inbox_for(DAY))
    run_day(DAY, settings, trigger="nightly")
    return settings


def _sign(settings: Settings, user: str, unit: str) -> dict:
    engine = sa.create_engine(settings.warehouse)
    try:
        store.ensure_schema(engine)
        store.assign_scope(engine, user, [unit])
        return signoff.sign_off(engine, username=user, period=DAY, unit_code=unit, note="已核")
    finally:
        engine.dispose()


def test_a_signed_off_day_changed_later_is_a_restatement(demo: Settings, monkeypatch) -> None:
    planted = correct_planted_value(demo, DAY)  # written now, published by the next run
    county = str(planted["unit_code"])[:6]
    row = _sign(demo, "county_lead", county)
    assert row["version"] == 1
    demo.sources.write_text(
        f'[[steward]]\nemail = "lead@county.example"\nunits = ["{county}"]\n', encoding="utf-8"
    )
    with smtp_receiver() as box:
        monkeypatch.setenv("AIRFLOW_CONN_HUIZONG_SMTP", f"smtp://127.0.0.1:{box.port}")
        summary = run_day(DAY, demo, trigger="correction")

    published = summary["publish"]
    assert published["version"] == 2
    assert published["restated"] == f"{county} county_lead v1"
    assert published["restatement_notified"] == ["lead@county.example"]
    versions = read_versions(demo.warehouse, DAY)
    assert versions["restatement"].tolist() == [0, 1]
    changes = read_changes(demo.warehouse, DAY, 2)
    mine = changes[changes["unit_code"] == county]
    assert len(mine) > 0
    # the notice names the unit, the version, and each changed figure with old → new
    (msg,) = box.messages
    assert msg["To"] == "lead@county.example"
    assert county in msg["Subject"] and "version 2" in msg["Subject"]
    body = msg.get_content()
    for r in mine.itertuples():
        assert r.indicator in body
    assert "→" in body and "审核更正 steward correction" in body


def test_a_change_elsewhere_does_not_restate_this_units_sign_off(demo: Settings) -> None:
    planted = correct_planted_value(demo, DAY)
    other = "130902" if not str(planted["unit_code"]).startswith("130902") else "130903"
    _sign(demo, "other_lead", other)
    summary = run_day(DAY, demo, trigger="correction")
    assert summary["publish"]["version"] == 2
    assert summary["publish"]["restated"] is None
    assert read_versions(demo.warehouse, DAY)["restatement"].tolist() == [0, 0]


def test_sign_off_is_scoped_and_needs_a_published_aggregated_unit(demo: Settings) -> None:
    engine = sa.create_engine(demo.warehouse)
    try:
        store.ensure_schema(engine)
        store.assign_scope(engine, "lead", ["130921"])
        with pytest.raises(ScopeError):
            signoff.sign_off(engine, username="lead", period=DAY, unit_code="130902")
        with pytest.raises(signoff.NotSignable):
            signoff.sign_off(engine, username="lead", period=DAY, unit_code="130921100201")
        with pytest.raises(signoff.NotPublished):
            signoff.sign_off(engine, username="lead", period="2020-01-27", unit_code="130921")
        signoff.sign_off(engine, username="lead", period=DAY, unit_code="130921")
        signoff.sign_off(engine, username="lead", period=DAY, unit_code="130921")  # once
        signed = signoff.signoffs_for(engine, DAY)
        assert signed[["unit_code", "version", "username"]].values.tolist() == [
            ["130921", 1, "lead"]
        ]
    finally:
        engine.dispose()
