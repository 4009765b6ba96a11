"""``huizong validate FILE...``: check submission files before (or instead of) sending them.

Each file is read exactly as the nightly ingest reads it and validated with the same
suite, so a clerk (or a township collecting its villages' files) sees every problem the
pipeline would quarantine, with its sheet, row and column.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import TextIO

import pandas as pd

from huizong.catalogue import load_catalogue
from huizong.settings import Settings


def _day_of(rows: pd.DataFrame) -> date | None:
    """The most common parseable period in the file (None if the file has none)."""
    periods = rows["period"].dropna()
    if periods.empty:
        return None
    return date.fromisoformat(str(periods.value_counts().index[0]))


def _line(issue: pd.Series, label: str, headers: dict[str, str]) -> str:
    parts = [f"文件 {issue['file_name']}"]
    if isinstance(issue["sheet"], str) and issue["sheet"]:
        parts.append(f"工作表 {issue['sheet']}")
    parts.append(f"第{int(issue['row_number'])}行")
    if isinstance(issue["column"], str) and issue["column"]:
        parts.append(f"列 {headers.get(issue['column'], issue['column'])}")
    return f"[{label}] " + " / ".join(parts) + f": {issue['message_zh']} | {issue['message_en']}"


def _refuse(path: Path, settings: Settings) -> tuple[str, str] | None:
    """File-level refusals decided before reading: missing, not a file, empty, too large."""
    try:
        st = path.stat()
    except OSError as exc:
        return "无法读取文件", f"cannot be read: {exc.strerror}"
    if not path.is_file():
        return "不是文件", "not a file"
    if st.st_size == 0:
        return "空文件（0字节），请重新导出后上报", "empty file (0 bytes); export it again"
    if st.st_size > settings.max_file_bytes:
        return (
            f"文件过大（{st.st_size} 字节，上限 {settings.max_file_bytes} 字节），未读取",
            f"file too large ({st.st_size} bytes, limit {settings.max_file_bytes}); not read",
        )
    return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def validate_files(paths: list[Path], day: date | None, settings: Settings, out: TextIO) -> int:
    """Print every problem of every file; 1 if any file has an error (or cannot be read)."""
    from huizong.ingest import SubmissionRejected, read_submission
    from huizong.ingest.headers import column_labels
    from huizong.ingest.inbox import display_name
    from huizong.ingest.safety import sniff
    from huizong.registry import registry_for
    from huizong.validate.day import validate_received

    catalogue = load_catalogue(settings.form)
    headers = column_labels(catalogue)
    registry = registry_for(settings)
    failed = False
    for path in paths:
        path = Path(path)
        name = display_name(path.name)
        refusal = _refuse(path, settings)
        if refusal is not None:
            print(f"[错误 error] 文件 {name}: {refusal[0]} | {refusal[1]}", file=out)
            failed = True
            continue
        try:
            digest = _sha256(path)
            received_at = pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC")
            found = sniff(path, path.suffix)
        except OSError as exc:
            print(f"[错误 error] 文件 {name}: 无法读取 / cannot be read: {exc}", file=out)
            failed = True
            continue
        try:
            sub = read_submission(
                path,
                catalogue,
                file_id=digest,
                file_name=name,
                received_at=received_at,
            )
        except SubmissionRejected as exc:
            print(f"[错误 error] 文件 {name}: {exc.message_zh} | {exc.message_en}", file=out)
            failed = True
            continue
        if found.note_zh:
            print(f"[提示 note] 文件 {name}: {found.note_zh} | {found.note_en}", file=out)
        rows = sub.rows
        if rows.empty:
            print(f"[错误 error] 文件 {name}: 没有数据行 | no data rows", file=out)
            failed = True
            continue
        file_day = day or _day_of(rows) or date.today()
        result = validate_received(rows, file_day, catalogue, registry, settings)
        for _, issue in result.quarantine.iterrows():  # printing: per-row is fine here
            print(_line(issue, "错误 error", headers), file=out)
        for _, issue in result.warnings.iterrows():
            print(_line(issue, "提示 warning", headers), file=out)
        n_bad = result.quarantine.drop_duplicates(["sheet", "row_number"]).shape[0]
        n, ok, warn = len(rows), len(result.accepted), len(result.warnings)
        print(
            f"文件 {name}（{file_day.isoformat()}）: {n} 行，通过 {ok} 行，有错误 {n_bad} 行，"
            f"提示 {warn} 条 | {n} rows, {ok} pass, {n_bad} with errors, {warn} warnings",
            file=out,
        )
        failed = failed or not result.quarantine.empty
    return 1 if failed else 0
