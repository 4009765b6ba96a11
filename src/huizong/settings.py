"""Runtime settings, read from the environment (HUIZONG_*) with embedded defaults.

One resolution for everything that runs: :meth:`Settings.resolve` is what the CLI, the
DAG's tasks and the review plugin call, so they read the same warehouse. It is
:meth:`Settings.from_env` plus, when ``HUIZONG_WAREHOUSE_URL`` is unset, Airflow's
connection ``huizong_warehouse`` (:func:`with_airflow_warehouse`). Every ``HUIZONG_*``
variable is a field here (:data:`ENV` maps them); a field left ``None`` means "the
owning module's default". Nothing here touches the disk at import time.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

TIMEZONE = "Asia/Shanghai"


def _default_home() -> Path:
    return Path(os.environ.get("HUIZONG_HOME", Path.cwd() / "var")).resolve()


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
    #: Files above this size are refused with a clear message instead of being read.
    max_file_bytes: int = 200 * 1024 * 1024
    form: str = "epidemic_daily"
    #: Airflow's REST API, which the review page calls to re-run a day.
    airflow_api_url: str = "http://127.0.0.1:8080"
    #: Workbook unpacking limits (``huizong.ingest.safety``); None = its defaults.
    max_unpacked_bytes: int | None = None
    max_ratio: float | None = None
    max_members: int | None = None
    #: Oldest reporting day accepted, in days (``huizong.validate.rows``); None = 7.
    max_period_age_days: int | None = None
    #: A file for an earlier day arriving within this many days goes to that day, which is
    #: re-published (``huizong.ingest.late``); older ones are quarantined as too old.
    late_window_days: int = 30
    #: Files per ingest partition: the nightly DAG reads each partition in its own mapped
    #: task (retried alone, spread over the Celery workers); a city's day is one partition.
    ingest_part_files: int = 2000
    #: Publication retries after a lost connection and the first delay (seconds).
    publish_retries: int | None = None
    publish_backoff: float | None = None
    #: Where the SQL statements and the GX suites are read from; None = the package's.
    sql_dir: Path | None = None
    expectations_dir: Path | None = None
    #: The sources file (mailboxes, deadlines, stewards); None = ``home/sources.toml``.
    sources_file: Path | None = None
    #: First day of a 周报 week (``huizong.periods``); None = Monday.
    week_start: str | None = None
    #: Wording template of the units' progress report (``huizong.publish.unit_report``).
    report_template: Path | None = None
    #: Per-unit contacts for the 综合表's signature block (``huizong.publish.contacts``);
    #: None = ``home/contacts.toml`` or ``home/contacts.csv`` when one exists.
    contacts_file: Path | None = None
    #: Where the steps hand their files to each other and keep every file received
    #: (``huizong.handover``): an fsspec URL every worker reaches (``file:///shared/huizong``,
    #: ``s3://conn_id@bucket/huizong``); None = ``file://`` + ``home`` (one machine).
    handover_url: str | None = None
    #: Seconds before Airflow retries a failed task of the nightly DAG; None = 120 (read
    #: when the DAG is parsed; with exponential backoff).
    task_retry_delay: float | None = None
    #: When ``huizong_nightly`` runs by itself: a cron expression in Asia/Shanghai, or
    #: ``off`` (only triggered runs: an external scheduler, a staging copy); None = every
    #: night at ``huizong.schedule.NIGHT_HOUR``. Read when the DAG is parsed.
    night_schedule: str | None = None
    #: Which engine applies the GX suite's row checks (``huizong.validate.rows``):
    #: ``fast`` = one vectorised pass derived from the suite JSON, GX itself for any
    #: expectation that pass does not implement; ``gx`` = Great Expectations for all.
    validation_engine: str = "fast"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """The environment's ``HUIZONG_*`` values (see :data:`ENV`), then ``overrides``."""
        if os.environ.get(REMOVED_DEADLINE_HOURS, "").strip():
            raise ValueError(
                f"{REMOVED_DEADLINE_HOURS} 已取消：截止时间在来源文件的 [deadlines] 按级别设置 / "
                f"{REMOVED_DEADLINE_HOURS} is gone: set each level's deadline in the sources "
                "file's [deadlines] (village, township, department), the one setting the "
                "receipt, the night and the workbooks read"
            )
        found: dict[str, object] = {}
        for name, (fld, parse) in ENV.items():
            raw = os.environ.get(name, "").strip()
            if raw and fld != "home":
                try:
                    found[fld] = parse(raw)
                except ValueError as exc:
                    raise ValueError(f"{name}={raw!r}: {exc}") from None
        if isinstance(found.get("inbox_root"), Path):
            found["inbox_root"] = found["inbox_root"].resolve()  # type: ignore[union-attr]
        found.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**found)  # type: ignore[arg-type]

    @classmethod
    def resolve(cls, **overrides: object) -> Settings:
        """The settings every entry point uses: the environment, then Airflow's
        connection ``huizong_warehouse`` for the warehouse when no URL is set.

        The home (and a local hand-over folder) is made owner-only here: the store, the
        steps' files and the workbooks under it hold every report received, whatever mode
        the process's umask gives each file."""
        settings = with_airflow_warehouse(cls.from_env(**overrides))
        for folder in {settings.home, settings.handover_folder or settings.home}:
            private_folder(folder)
        return settings

    @property
    def handover(self) -> str:
        """The hand-over URL in use (``file://`` + ``home`` unless one is configured)."""
        return self.handover_url or f"file://{self.home}"

    @property
    def handover_folder(self) -> Path | None:
        """The hand-over as a folder of this machine when it is a ``file://`` URL, else None."""
        scheme, sep, rest = self.handover.partition("://")
        return Path(rest) if scheme == "file" and sep else None

    @property
    def warehouse(self) -> str:
        return self.warehouse_url or f"sqlite:///{self.home / 'warehouse.sqlite'}"

    def inbox_for(self, day: date) -> Path:
        root = self.inbox_root or (self.home / "inbox")
        return root / day.isoformat()

    def run_dir(self, day: date) -> Path:
        """This machine's folder of one reporting day: the hand-over's ``runs/<day>`` when
        that is a folder here (the steps' files, read and written through
        ``huizong.handover``), else a local folder for the run lock alone."""
        return (self.handover_folder or self.home) / "runs" / day.isoformat()

    def out_dir(self, day: date) -> Path:
        """Published workbooks of one reporting day, on this machine: the hand-over's
        ``out/`` when that is a folder here, else written here and then uploaded."""
        return (self.handover_folder or self.home) / "out" / day.isoformat()

    def data_docs_dir(self, day: date) -> Path:
        """Great Expectations Data Docs of one day (in the hand-over folder when there is
        one here, so the review page serves what any worker built)."""
        return (self.handover_folder or self.home) / "data_docs" / day.isoformat()

    @property
    def store_dir(self) -> Path:
        """This machine's content-addressed copies of the files received: the hand-over's
        store itself when that is a folder here, else a cache of it (``huizong.handover``)."""
        return (self.handover_folder or self.home) / "store"

    @property
    def sources(self) -> Path:
        """The deployment's sources file (may not exist: folder inbox only)."""
        return self.sources_file or (self.home / "sources.toml")

    @property
    def contacts(self) -> Path | None:
        """The deployment's contacts file, if it has one."""
        if self.contacts_file is not None:
            return self.contacts_file
        found = [self.home / f"contacts.{ext}" for ext in ("toml", "csv")]
        return next((p for p in found if p.is_file()), None)

    @property
    def loaded_registry(self) -> Path:
        """Where ``huizong registry load`` puts the registry it built: in the hand-over
        folder when there is one here, so every worker uses the same registry."""
        return (self.handover_folder or self.home) / "registry" / "org_units.parquet"


#: The values ``HUIZONG_VALIDATION_ENGINE`` takes.
VALIDATION_ENGINES = ("fast", "gx")


def _validation_engine(raw: str) -> str:
    engine = raw.strip().lower()
    if engine not in VALIDATION_ENGINES:
        raise ValueError(
            f"校验引擎须为 {' 或 '.join(VALIDATION_ENGINES)} / "
            f"expected one of {', '.join(VALIDATION_ENGINES)}"
        )
    return engine


#: ``HUIZONG_NIGHT_SCHEDULE`` meaning "no schedule: triggered runs only".
NIGHT_OFF = "off"


def _night_schedule(raw: str) -> str:
    """``off``, or a five-field cron expression (checked by Airflow's own parser when the
    DAG is parsed; here only its shape, so a typo names the setting)."""
    text = " ".join(raw.split())
    if text.lower() in {NIGHT_OFF, "none"}:
        return NIGHT_OFF
    if len(text.split(" ")) != 5:
        raise ValueError(
            "须为五段 cron 表达式（如 0 2 * * *）或 off / expected a five-field cron "
            "expression (such as 0 2 * * *) or off"
        )
    return text


def _handover_url(raw: str) -> str:
    """An fsspec URL as given, or an absolute folder as its ``file://`` URL."""
    if raw.startswith("file://"):
        raw = raw.removeprefix("file://")  # file:///abs/folder; no host, no %-escapes
    elif "://" in raw:
        return raw.rstrip("/")
    if not Path(raw).is_absolute():
        raise ValueError(
            "需要 URL 或绝对路径 / expected a URL (file:///folder, s3://…) or an absolute path"
        )
    return f"file://{Path(raw).resolve()}"


#: The old second deadline setting (hours after the day's start): refused, never ignored,
#: so a deployment that set it learns where deadlines live now.
REMOVED_DEADLINE_HOURS = "HUIZONG_DEADLINE_HOURS"

#: Every environment variable the package reads: name -> (Settings field, parser).
#: ``HUIZONG_HOME`` is read by the ``home`` field's default.
ENV: dict[str, tuple[str, Callable[[str], object]]] = {
    "HUIZONG_HOME": ("home", Path),
    "HUIZONG_WAREHOUSE_URL": ("warehouse_url", str),
    "HUIZONG_INBOX": ("inbox_root", Path),
    "HUIZONG_DIVISIONS": ("divisions", Path),
    "HUIZONG_DEPARTMENTS": ("departments", Path),
    "HUIZONG_MAX_FILE_BYTES": ("max_file_bytes", int),
    "HUIZONG_AIRFLOW_API_URL": ("airflow_api_url", str),
    "HUIZONG_MAX_UNPACKED_BYTES": ("max_unpacked_bytes", int),
    "HUIZONG_MAX_COMPRESSION_RATIO": ("max_ratio", float),
    "HUIZONG_MAX_ZIP_MEMBERS": ("max_members", int),
    "HUIZONG_MAX_PERIOD_AGE_DAYS": ("max_period_age_days", int),
    "HUIZONG_LATE_WINDOW_DAYS": ("late_window_days", int),
    "HUIZONG_INGEST_PART_FILES": ("ingest_part_files", int),
    "HUIZONG_PUBLISH_RETRIES": ("publish_retries", int),
    "HUIZONG_PUBLISH_BACKOFF": ("publish_backoff", float),
    "HUIZONG_SQL_DIR": ("sql_dir", Path),
    "HUIZONG_EXPECTATIONS": ("expectations_dir", Path),
    "HUIZONG_SOURCES": ("sources_file", Path),
    "HUIZONG_WEEK_START": ("week_start", str),
    "HUIZONG_REPORT_TEMPLATE": ("report_template", Path),
    "HUIZONG_CONTACTS": ("contacts_file", Path),
    "HUIZONG_HANDOVER_URL": ("handover_url", _handover_url),
    "HUIZONG_TASK_RETRY_DELAY": ("task_retry_delay", float),
    "HUIZONG_NIGHT_SCHEDULE": ("night_schedule", _night_schedule),
    "HUIZONG_VALIDATION_ENGINE": ("validation_engine", _validation_engine),
}


#: Airflow connection holding the warehouse URL when ``HUIZONG_WAREHOUSE_URL`` is unset.
WAREHOUSE_CONN_ID = "huizong_warehouse"


def with_airflow_warehouse(settings: Settings) -> Settings:
    """``settings`` with the Airflow connection's URL as warehouse when none is set.

    Operators may keep the warehouse credentials in an Airflow connection (e.g. from a
    secrets backend); tasks, the review plugin and the CLI all end at the same warehouse.
    Airflow is imported only here, only if it is installed, and only where an Airflow
    deployment is visible (:func:`airflow_deployed`): a CLI command on a machine without
    one must not pay Airflow's import (seconds) nor let it create ``~/airflow``."""
    if settings.warehouse_url or importlib.util.find_spec("airflow") is None:
        return settings
    if not airflow_deployed():
        return settings
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(WAREHOUSE_CONN_ID)
    except AirflowNotFoundException:
        return settings
    return replace(settings, warehouse_url=conn.get_uri())


def airflow_deployed(environ: Mapping[str, str] | None = None) -> bool:
    """Could Airflow hold a ``huizong_warehouse`` connection here? Only if it is configured:
    a connection or any setting in the environment (``AIRFLOW_CONN_*``, ``AIRFLOW__*``,
    ``AIRFLOW_HOME``, as in a task, the API server or ``make demo``), or an ``airflow.cfg``
    in Airflow's default home. Decided without importing Airflow."""
    env = os.environ if environ is None else environ
    if any(k.startswith(("AIRFLOW_CONN_", "AIRFLOW__")) or k == "AIRFLOW_HOME" for k in env):
        return True
    return (Path(env.get("HOME", "~")).expanduser() / "airflow" / "airflow.cfg").is_file()


def private_folder(path: Path) -> None:
    """Create ``path`` as 0700, or take away others' access to a folder we own."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=False)
    except FileExistsError:
        pass
    except OSError:
        return  # a read-only or foreign location: the steps report their own errors
    mode = path.stat()
    if path.is_dir() and mode.st_mode & 0o077 and mode.st_uid == os.getuid():
        path.chmod(mode.st_mode & 0o700)
