"""Text submissions (CSV): find the encoding from the bytes, then split into cells.

The encoding is never taken from what the file says about itself (see
:func:`decode_text`); the cells come back as rows of strings, exactly as written, for
the layout step to find the header in.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import pandas as pd

from huizong.ingest.headers import HEADER_SEARCH_ROWS
from huizong.ingest.rejected import SubmissionRejected

#: Byte-order marks, longest first (a UTF-32-LE BOM starts with the UTF-16-LE one).
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
_DECLARED = re.compile(r"(?:encoding|charset|编码)\s*[=:：]\s*[\"']?([A-Za-z][\w.-]*)", re.I)
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "euc_cn", "hz"}


def decode_text(data: bytes) -> tuple[str, str, list[str]]:
    """(text, encoding used, notes) for a text file's bytes.

    The encoding is found from the bytes only, never from what the file says about
    itself: a byte-order mark (UTF-8/16/32) decides; else NUL bytes mean UTF-16 without
    a mark; else a strict UTF-8 decode, then a strict GB18030 decode (a superset of GBK
    and GB2312). A declaration in the text ("encoding=utf-8", a meta charset) that the
    bytes contradict is a "mis-declared" file: it is read as the bytes say, with a note.
    Bytes that fit none are rejected, naming the first bad byte for each encoding tried.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(enc)
            except UnicodeDecodeError as exc:
                raise _undecodable([(enc, exc.start + len(bom), data)]) from exc
            return text, enc, _declaration_notes(text, enc)
    failures = []
    head = data[:4096]
    if head.count(0) > len(head) // 8:  # UTF-16 text without a BOM
        odd = head[1::2].count(0) >= head[0::2].count(0)
        candidates = ["utf-16-le" if odd else "utf-16-be"]
    else:
        candidates = ["utf-8", "gb18030"]
    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as exc:
            failures.append((enc, exc.start, data))
            continue
        return text, enc, _declaration_notes(text, enc)
    raise _undecodable(failures)


def _undecodable(failures: list[tuple[str, int, bytes]]) -> SubmissionRejected:
    zh = "；".join(
        f"按{enc.upper()}解码，第{pos + 1}个字节（0x{data[pos]:02X}）无效"
        for enc, pos, data in failures
    )
    en = "; ".join(
        f"as {enc.upper()}, byte offset {pos} (0x{data[pos]:02X}) is invalid"
        for enc, pos, data in failures
    )
    return SubmissionRejected(
        f"无法识别文件编码（应为UTF-8或GB18030）：{zh}；请另存为“CSV UTF-8”后重报",
        f"unknown text encoding (expected UTF-8 or GB18030): {en}; save as 'CSV UTF-8' "
        "and resubmit",
    )


def _codec_family(name: str) -> str:
    try:
        canon = codecs.lookup(name).name
    except LookupError:
        return name.lower()
    canon = canon.replace("_", "-")
    if canon.replace("-", "_") in _GB_FAMILY:
        return "gb"
    return "utf-8" if canon in ("utf-8", "utf-8-sig") else canon


def _declaration_notes(text: str, used: str) -> list[str]:
    m = _DECLARED.search(text[:2048])
    if not m or _codec_family(m.group(1)) == _codec_family(used):
        return []
    return [
        f"文件声明编码为 {m.group(1)}，但内容是 {used.upper()}，已按 {used.upper()} 读取 / "
        f"the file declares {m.group(1)} but its bytes are {used.upper()}; read as "
        f"{used.upper()}"
    ]


def csv_rows(path: Path, *, data: bytes | None = None) -> tuple[list[list[object]], list[str]]:
    """A CSV file's lines as rows of cells (strings as written), and notes on its encoding.

    ``data``: the file's bytes, when the caller has read them already."""
    if data is None:
        data = path.read_bytes()
    text, _, notes = decode_text(data)
    # Title lines have fewer fields than the header, which the C engine refuses unless it
    # is told the width: take it from the first lines (where the header must be), and only
    # if a later line is wider, from all lines (slow path, rare).
    head = list(csv.reader(text.splitlines()[:HEADER_SEARCH_ROWS]))
    width = max((len(r) for r in head), default=0)
    if width == 0:
        return [], notes
    try:
        body = _read_csv(text, width)
    except pd.errors.ParserError:
        width = max(len(r) for r in csv.reader(io.StringIO(text)))
        try:
            body = _read_csv(text, width)
        except Exception as exc:
            raise SubmissionRejected(
                f"无法解析CSV文件：{exc}", f"cannot parse the CSV file: {exc}"
            ) from exc
    except Exception as exc:
        raise SubmissionRejected(
            f"无法解析CSV文件：{exc}", f"cannot parse the CSV file: {exc}"
        ) from exc
    return body.to_numpy(dtype=object).tolist(), notes


def _read_csv(text: str, width: int) -> pd.DataFrame:
    return pd.read_csv(
        io.StringIO(text),
        header=None,
        names=list(range(width)),
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=False,
        engine="c",
    )
