"""Runtime settings, read from the environment (HUIZONG_*) with embedded defaults.

Nothing here touches the disk at import time; ``Settings.from_env()`` is called by the
CLI and by each Airflow task.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

TIMEZONE = "Asia/Shanghai"


def _default_home() -> Path:
    return Path(os.environ.get("HUIZONG_HOME", Path.cwd() / "var")).resolve()


def _path_env(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


@dataclass(frozen=True)
class Settings:
    """Where things live and the knobs a deployment turns."""

    home: Path = field(default_factory=_default_home)
    #: SQLAlchemy URL of the warehouse; default: a SQLite file under ``home``.
    warehouse_url: str | None = None
    #: Folder holding one sub-folder per reporting day (``inbox/2026-11-26/``).
    inbox_root: Path | None = None
    #: Division folder for the registry; None = the shipped 沧州市 extract or a loaded one.
    divisions: Path | None = None
    #: Department config (TOML); None = the shipped one.
    departments: Path | None = None
    #: Hours after the start of the reporting day (Asia/Shanghai) by which a report is on
    #: time. 24 = by midnight at the end of the day.
    deadline_hours: float = 24.0
    #: Files above this size are refused with a clear message instead of being read.
    max_file_bytes: int = 200 * 1024 * 1024
    form: str = "epidemic_daily"
    #: The sources file (mailboxes, deadlines, stewards); None = ``home/sources.toml``.
    sources_file: Path | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        inbox = _path_env("HUIZONG_INBOX")
        base = cls(
            warehouse_url=env.get("HUIZONG_WAREHOUSE_URL") or None,
            inbox_root=inbox.resolve() if inbox else None,
            divisions=_path_env("HUIZONG_DIVISIONS"),
            departments=_path_env("HUIZONG_DEPARTMENTS"),
            deadline_hours=float(env.get("HUIZONG_DEADLINE_HOURS", "24")),
            max_file_bytes=int(env.get("HUIZONG_MAX_FILE_BYTES", str(200 * 1024 * 1024))),
            sources_file=_path_env("HUIZONG_SOURCES"),
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(base, **clean) if clean else base

    @property
    def warehouse(self) -> str:
        return self.warehouse_url or f"sqlite:///{self.home / 'warehouse.sqlite'}"

    def inbox_for(self, day: date) -> Path:
        root = self.inbox_root or (self.home / "inbox")
        return root / day.isoformat()

    def run_dir(self, day: date) -> Path:
        """Intermediate files of one reporting day (parquet), passed between steps by path."""
        return self.home / "runs" / day.isoformat()

    def out_dir(self, day: date) -> Path:
        """Published workbooks of one reporting day."""
        return self.home / "out" / day.isoformat()

    @property
    def store_dir(self) -> Path:
        """Content-addressed copies of every file received (kept for review and audit)."""
        return self.home / "store"

    @property
    def sources(self) -> Path:
        """The deployment's sources file (may not exist: folder inbox only)."""
        return self.sources_file or (self.home / "sources.toml")

    @property
    def loaded_registry(self) -> Path:
        """Where ``huizong registry load`` puts the registry it built."""
        return self.home / "registry" / "org_units.parquet"
