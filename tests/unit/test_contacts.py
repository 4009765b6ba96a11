"""The contacts file (HUIZONG_CONTACTS): CSV or TOML, Chinese or English column names."""

from __future__ import annotations

from pathlib import Path

import pytest

from huizong.publish.contacts import Contact, ContactsError, load_contacts
from huizong.publish.workbook import signature_line
from huizong.settings import Settings


def test_csv_with_chinese_headers_and_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        "单位代码,单位负责人,统计负责人,填表人,联系电话,备注\n"
        "130921,张县长,李统计,王填表,0317-5551234,多余的列\n"
        "130921100,赵镇长,,钱填表,\n",
        encoding="utf-8-sig",
    )
    got = load_contacts(path)
    assert got["130921"] == Contact("张县长", "李统计", "王填表", "0317-5551234")
    assert got["130921100"] == Contact(head="赵镇长", preparer="钱填表")
    line = signature_line(got["130921100"])
    assert "单位负责人：赵镇长" in line and "统计负责人：__________" in line


def test_csv_with_english_headers(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("unit_code,head,phone\n1309,Li,123\n", encoding="utf-8")
    assert load_contacts(path) == {"1309": Contact(head="Li", phone="123")}


def test_toml_by_unit_table_or_list(tmp_path: Path) -> None:
    path = tmp_path / "contacts.toml"
    path.write_text(
        '[unit."130921"]\n"单位负责人" = "张县长"\nphone = "0317-5551234"\n\n'
        '[[contact]]\nunit_code = "1309"\nhead = "市长"\npreparer = "填表人甲"\n',
        encoding="utf-8",
    )
    got = load_contacts(path)
    assert got == {
        "130921": Contact(head="张县长", phone="0317-5551234"),
        "1309": Contact(head="市长", preparer="填表人甲"),
    }


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("c.csv", "单位负责人\n张三\n".encode(), "缺少单位代码"),
        ("c.csv", "单位代码,单位负责人\n1309,张三\n".encode("gb18030"), "UTF-8"),
        ("c.toml", b"[unit.1309\n", "TOML"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ContactsError, match=message):
        load_contacts(path)


def test_settings_field_and_default_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_contacts(None) == {} and load_contacts(tmp_path / "absent.csv") == {}
    home = tmp_path / "var"
    home.mkdir()
    assert Settings(home=home).contacts is None
    (home / "contacts.csv").write_text("单位代码\n1309\n", encoding="utf-8")
    assert Settings(home=home).contacts == home / "contacts.csv"
    monkeypatch.setenv("HUIZONG_CONTACTS", str(tmp_path / "mine.toml"))
    assert Settings.from_env(home=home).contacts == tmp_path / "mine.toml"
