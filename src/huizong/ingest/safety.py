"""Look at a file's bytes before any parser does: what it really is, and whether it is safe.

Clerks' files lie about themselves: a ``.xlsx`` that is a CSV renamed, an "Excel export"
that is an HTML page, an old ``.xls`` or a password-protected workbook (both OLE2
compound files), a truncated download. And a workbook is a zip: a few kilobytes can
unpack to gigabytes (a decompression bomb). :func:`guard_file` settles all of it from the
file's first bytes and the zip's own directory, then streams every member through zlib
counting bytes, *before* calamine opens the file, so memory and time stay bounded by the
limits below whatever the file claims.

Limits (environment, read at call time; see :class:`Limits`):

* ``HUIZONG_MAX_UNPACKED_BYTES`` (default 500 MiB): total unpacked size of a workbook.
* ``HUIZONG_MAX_COMPRESSION_RATIO`` (default 250): a member larger than 1 MiB unpacked
  that compresses better than this is a bomb (ordinary sheet XML: 5-50x; deflate's
  ceiling is about 1030x).
* ``HUIZONG_MAX_ZIP_MEMBERS`` (default 10,000): a workbook has a few dozen parts.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from huizong.ingest.rejected import SubmissionRejected

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SNIFF_BYTES = 4096
#: Names whose content is sniffed: .xls too, because many systems export "xls" files that
#: are really HTML tables, CSV text or renamed xlsx workbooks.
SNIFFED_SUFFIXES = (".xlsx", ".csv", ".xls")
_STREAM_CHUNK = 1024 * 1024
_RATIO_FLOOR = 1024 * 1024  # members smaller than this are never judged by their ratio


@dataclass(frozen=True)
class Limits:
    """How much a workbook may unpack to; defaults from the environment."""

    max_unpacked_bytes: int = 500 * 1024 * 1024
    max_ratio: float = 250.0
    max_members: int = 10_000

    @classmethod
    def from_env(cls, settings: object = None) -> Limits:
        """Settings attributes of the same name win over the environment (if present)."""
        env = os.environ
        base = cls(
            max_unpacked_bytes=int(
                env.get("HUIZONG_MAX_UNPACKED_BYTES", str(cls.max_unpacked_bytes))
            ),
            max_ratio=float(env.get("HUIZONG_MAX_COMPRESSION_RATIO", str(cls.max_ratio))),
            max_members=int(env.get("HUIZONG_MAX_ZIP_MEMBERS", str(cls.max_members))),
        )
        got = {
            k: getattr(settings, k)
            for k in ("max_unpacked_bytes", "max_ratio", "max_members")
            if getattr(settings, k, None) is not None
        }
        return cls(**{**base.__dict__, **got}) if got else base


@dataclass(frozen=True)
class Sniffed:
    """What the bytes are: ``kind`` and the suffix to read them with (None = cannot)."""

    kind: str  # empty | zip | ole2 | html | xml | text | binary
    suffix: str | None
    note_zh: str = ""
    note_en: str = ""

    @property
    def note(self) -> str:
        return f"{self.note_zh} / {self.note_en}" if self.note_zh else ""


def _rejected(zh: str, en: str) -> Exception:
    return SubmissionRejected(zh, en)


def _kind_of(head: bytes) -> str:
    if not head:
        return "empty"
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return "zip"
    if head.startswith(OLE2_MAGIC):
        return "ole2"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    lowered = text[:_SNIFF_BYTES].lower()
    if text.startswith(b"<"):
        if b"<html" in lowered or b"<table" in lowered or b"<!doctype html" in lowered:
            return "html"
        return "xml" if lowered.startswith(b"<?xml") else "html"
    if b"\x00" in head:
        # UTF-16 text ("Unicode text" saved by Excel) has NULs too: a BOM, or a NUL in
        # most of the odd or the even positions (ASCII and digits in UTF-16)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return "text"
        odd, even = head[1::2], head[0::2]
        utf16 = max(odd.count(0) / max(len(odd), 1), even.count(0) / max(len(even), 1))
        return "text" if utf16 > 0.3 else "binary"
    return "text"


def sniff(path: Path, declared: str, *, data: bytes | None = None) -> Sniffed:
    """The file's real kind from its first bytes; ``declared`` is the name's suffix.

    ``data``: the file's bytes when the caller holds them already (read once)."""
    declared = declared.lower()
    if data is not None:
        head = data[:_SNIFF_BYTES]
    else:
        with Path(path).open("rb") as f:
            head = f.read(_SNIFF_BYTES)
    kind = _kind_of(head)
    if kind == "text" and declared not in ("", ".csv") and b"," not in head:
        kind = "binary"  # a "workbook" of plain text without a single comma: not a CSV
    if kind not in ("zip", "text"):
        return Sniffed(kind, None)
    suffix = ".xlsx" if kind == "zip" else ".csv"
    if not declared or declared == suffix:
        return Sniffed(kind, suffix)
    what_zh, what_en = ("Excel工作簿", "an Excel workbook") if kind == "zip" else ("CSV", "CSV")
    return Sniffed(
        kind,
        suffix,
        f"扩展名为{declared}但内容是{what_zh}，已按{suffix}读取",
        f"named {declared} but the content is {what_en}; read as {suffix}",
    )


def _refusal(kind: str, declared: str, name: str) -> tuple[str, str]:
    shown = declared or "(无扩展名)"
    if kind == "empty":
        return "空文件（0字节），请重新导出后上报", "empty file (0 bytes); export it again"
    if kind == "html":
        return (
            f"文件“{name}”扩展名为{shown}，但内容是网页（HTML）表格（一些系统导出的“Excel”"
            "其实是网页）：请用Excel打开，“另存为”Excel工作簿（.xlsx）后重报",
            f"{name} is named {declared or '(no suffix)'} but is an HTML page (some systems "
            "export 'Excel' as HTML): open it in Excel, 'Save As' Excel Workbook (.xlsx) and "
            "resubmit",
        )
    if kind == "xml":
        return (
            f"文件“{name}”是XML格式的表格（Excel 2003 XML），不是.xlsx：请用Excel打开，"
            "“另存为”Excel工作簿（.xlsx）后重报",
            f"{name} is an XML spreadsheet (Excel 2003 XML), not .xlsx: open it in Excel, "
            "'Save As' Excel Workbook (.xlsx) and resubmit",
        )
    if kind == "ole2":
        return (
            f"文件“{name}”是旧版Excel（.xls）或设置了打开密码的工作簿：请取消密码，"
            "“另存为”Excel工作簿（.xlsx）后重报",
            f"{name} is an old Excel (.xls) file or a password-protected workbook: remove the "
            "password, 'Save As' Excel Workbook (.xlsx) and resubmit",
        )
    return (
        f"文件已损坏：“{name}”既不是Excel工作簿也不是CSV表格，请重新导出后上报",
        f"the file is damaged: {name} is neither an Excel workbook nor a CSV table; "
        "export it again",
    )


def check_zip(path: Path, limits: Limits, name: str = "") -> None:
    """Refuse a damaged workbook or a decompression bomb without unpacking it to memory.

    First the zip's directory (member count, declared sizes, ratios). Then, unless the
    compressed size alone proves the file cannot unpack past the limit (deflate expands
    at most ~1032:1), every member is streamed through the decompressor in 1 MiB chunks,
    counting bytes: a directory that lies about sizes stops at the limit (or fails its
    CRC) instead of filling memory.
    """
    checked_zip(path, limits, name).close()


def checked_zip(path: Path, limits: Limits, name: str = "") -> zipfile.ZipFile:
    """:func:`check_zip`, returning the zip it opened (the caller closes it): the reader
    looks for formulas in it without parsing the zip's directory a second time."""
    name = name or Path(path).name
    corrupt = (
        f"文件已损坏：“{name}”无法作为Excel工作簿打开（可能下载或复制不完整），请重新导出后上报",
        f"the file is damaged: {name} cannot be opened as an Excel workbook (perhaps an "
        "incomplete download or copy); export it again",
    )
    try:
        zf = zipfile.ZipFile(path)
        try:
            _check_members(zf, limits, name)
        except BaseException:
            zf.close()
            raise
        return zf
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise _rejected(*corrupt) from exc
    except (NotImplementedError, RuntimeError) as exc:  # odd compression, encryption
        raise _rejected(
            f"文件“{name}”使用了不支持的压缩或加密方式（{exc}），请用Excel“另存为”.xlsx后重报",
            f"{name} uses an unsupported compression or encryption ({exc}); "
            "'Save As' .xlsx in Excel and resubmit",
        ) from exc


def _check_workbook_package(zf: zipfile.ZipFile, name: str) -> None:
    """A zip that is not an Office Open XML package (an OpenDocument sheet renamed .xlsx,
    any other archive) is refused, whether it is read from its path or from its bytes:
    calamine tells such a file by its content from bytes but refuses it from a path, and
    the formula check looks only at ``xl/worksheets`` — an uncached formula in it would
    have been read as a silent blank."""
    if "_rels/.rels" not in zf.NameToInfo:
        raise _rejected(
            f"文件“{name}”不是Excel工作簿（.xlsx），请用Excel“另存为”.xlsx后重报",
            f"{name} is not an Excel workbook (.xlsx); 'Save As' .xlsx in Excel and resubmit",
        )


def _check_members(zf: zipfile.ZipFile, limits: Limits, name: str) -> None:
    infos = zf.infolist()
    _check_directory(infos, limits, name)
    if _bounded_by_deflate(infos, limits):
        return
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        with zf.open(info) as member:
            while chunk := member.read(_STREAM_CHUNK):
                total += len(chunk)
                if total > limits.max_unpacked_bytes:
                    raise _bomb(name, limits, total)


#: Deflate cannot expand data by more than about 1032:1 (RFC 1951 block limits).
DEFLATE_MAX_RATIO = 1032


def _bounded_by_deflate(infos: list[zipfile.ZipInfo], limits: Limits) -> bool:
    """True when even a directory that lies about sizes cannot unpack past the limit:
    only stored/deflated members, and compressed bytes x 1032 within the limit. Most
    submissions (tens of kilobytes) skip the streaming pass this way (about 1 ms each)."""
    methods = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
    if any(i.compress_type not in methods for i in infos):
        return False
    return sum(i.compress_size for i in infos) * DEFLATE_MAX_RATIO <= limits.max_unpacked_bytes


def _check_directory(infos: list[zipfile.ZipInfo], limits: Limits, name: str) -> None:
    if len(infos) > limits.max_members:
        raise _rejected(
            f"文件“{name}”包含 {len(infos)} 个内部部件（上限 {limits.max_members}），"
            "不是正常的Excel工作簿，未读取",
            f"{name} holds {len(infos)} parts (limit {limits.max_members}): not an ordinary "
            "workbook; not read",
        )
    declared = sum(i.file_size for i in infos)
    if declared > limits.max_unpacked_bytes:
        raise _bomb(name, limits, declared)
    for i in infos:
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > _RATIO_FLOOR and ratio > limits.max_ratio:
            raise _rejected(
                f"文件“{name}”的部件 {i.filename} 压缩比异常（{ratio:.0f}:1，上限 "
                f"{limits.max_ratio:.0f}:1），疑似“压缩炸弹”，未读取；如确为正常报表，"
                "请删除空白行列后重新保存",
                f"{name}: part {i.filename} is compressed {ratio:.0f}:1 (limit "
                f"{limits.max_ratio:.0f}:1), a likely decompression bomb; not read. If it is "
                "a genuine report, delete empty rows and columns and save it again",
            )


def _bomb(name: str, limits: Limits, size: int) -> Exception:
    mib = limits.max_unpacked_bytes / (1024 * 1024)
    return _rejected(
        f"文件“{name}”解压后超过 {mib:.0f} MiB（至少 {size} 字节），疑似“压缩炸弹”或异常巨大的"
        "工作簿，未读取；请只保留报表数据后重新保存",
        f"{name} unpacks to more than {mib:.0f} MiB (at least {size} bytes): a likely "
        "decompression bomb or an abnormally large workbook; not read. Keep only the report's "
        "data and save it again",
    )


def guard_file(
    path: Path,
    suffix: str,
    *,
    name: str = "",
    limits: Limits | None = None,
    data: bytes | None = None,
) -> str:
    """The suffix to read ``path`` with, after checking it is safe; else SubmissionRejected.

    ``suffix`` is what the file's name says (".xlsx"/".csv"); the content decides: a zip
    is read as xlsx (and checked against the limits), text as csv; empty, HTML, XML,
    OLE2 (.xls / encrypted) and other binary files are refused with a message the clerk
    can act on. ``name`` is the file name shown in messages (display only); ``data``
    the file's bytes when the caller has read them (then the file is not opened again).
    """
    suffix, zf = guard_file_zip(path, suffix, name=name, limits=limits, data=data)
    if zf is not None:
        zf.close()
    return suffix


def guard_file_zip(
    path: Path,
    suffix: str,
    *,
    name: str = "",
    limits: Limits | None = None,
    data: bytes | None = None,
) -> tuple[str, zipfile.ZipFile | None]:
    """:func:`guard_file`, and for a workbook the checked zip, open (the caller closes
    it); None for anything else."""
    path = Path(path)
    if suffix.lower() not in SNIFFED_SUFFIXES:
        return suffix, None  # not a spreadsheet name: the reader refuses it by its suffix
    name = name or path.name
    found = sniff(path, suffix, data=data)
    if found.suffix is None:
        raise _rejected(*_refusal(found.kind, suffix.lower(), name))
    if found.suffix == ".xlsx":
        source = path if data is None else io.BytesIO(data)
        zf = checked_zip(source, limits or Limits.from_env(), name)  # type: ignore[arg-type]
        try:
            _check_workbook_package(zf, name)
        except BaseException:
            zf.close()
            raise
        return found.suffix, zf
    return found.suffix, None


__all__ = ["Limits", "Sniffed", "check_zip", "checked_zip", "guard_file", "guard_file_zip", "sniff"]
