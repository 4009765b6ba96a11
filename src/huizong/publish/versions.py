"""Every publish of a day is a version; the history keeps only the values that changed.

Why this shape: the current tables (``consolidated``, ``completeness``) stay the contract
every reader uses, so versioning adds tables beside them instead of a column in them.
Each publish that changes anything gets the next version number in ``publish_version``
(when, what triggered it, the run, the sha256 of every input file in
``publish_version_input``), and one row per changed cell in ``<table>_change`` holding
the whole old and new row (so a unit renamed or moved in the hierarchy is remembered as
it was). The views ``<table>_asof`` put the current rows and the old ones together, each
valid from ``version_from`` to ``version_to`` (exclusive), which is all ``asof`` needs.
The change rows are also the change report: per unit and indicator, old → new, and the
cause (the reporters below it whose rows changed, and how).

A day a steward signed off (确认上报) is never changed silently: a later publish that
changes a signed-off unit's values is flagged a restatement (``restatement``, and
``restated`` names whose sign-off), and the signer is told (:mod:`huizong.review.signoff`).

A publish whose tables are identical to the latest version's (a backfill of a day whose
inputs did not change) creates no version and writes nothing: the rows stay byte for byte.
"""

from __future__ import annotations

import hashlib
import itertools
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from huizong.display import local_time
from huizong.publish.change_report import value_changed
from huizong.validate.waivers import KEEP

#: Tables with a history, and their key besides ``period``.
VERSIONED: dict[str, list[str]] = {
    "consolidated": ["unit_code", "indicator"],
    "completeness": ["unit_code"],
}
TRIGGERS = ("nightly", "correction", "late", "backfill", "manual")
#: The version a day published before versions existed is counted as.
FIRST_VERSION = 1
#: How many changed reporters a cause names before it says how many more there are.
CAUSE_CAP = 5
UNNAMED_FILE = "（文件名未记录 / file name not recorded）"
CHANNEL_CAUSES = {
    "review": "审核更正 steward correction",
    "mail": "邮件报送 mailed file",
    "upload": "网页上传 uploaded file",
    "folder": "收件箱文件 inbox file",
}


@dataclass(frozen=True)
class Provenance:
    """What made this publish happen (``publish_version.trigger`` / ``run_id`` / ``note``)."""

    trigger: str = "manual"
    run_id: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if self.trigger not in TRIGGERS:
            raise ValueError(
                f"发布触发方式“{self.trigger}”无效 / unknown publish trigger {self.trigger!r}: "
                f"one of {', '.join(TRIGGERS)}"
            )


@dataclass(frozen=True)
class VersionPlan:
    """What one publish will write about versions (decided before the day is replaced)."""

    version: int
    unchanged: bool  # identical to the latest version: nothing is written
    record: dict[str, object]  # the publish_version row
    inputs: pd.DataFrame  # publish_version_input rows
    changes: dict[str, pd.DataFrame]  # <table>_change rows per versioned table
    backfill_first: dict[str, object] | None  # version 1 row for a day published before


def tables_digest(
    loads: Mapping[str, pd.DataFrame], row_hashes: Mapping[str, np.ndarray] | None = None
) -> str:
    """sha256 over every table's rows as they will be written (names, order and values).

    ``row_hashes``: each table's ``hash_pandas_object`` rows, when the caller has them."""
    rows = {}
    for table, frame in loads.items():
        got = row_hashes.get(table) if row_hashes is not None else None
        if got is None:
            got = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        rows[table] = got if len(frame) else got[:0]
    return hashes_digest({t: list(f.columns) for t, f in loads.items()}, rows)


def hashes_digest(columns: Mapping[str, list[str]], rows: Mapping[str, np.ndarray]) -> str:
    """:func:`tables_digest` from each table's column names and row hashes alone (the
    fast path's old day, whose frames it does not type again)."""
    h = hashlib.sha256()
    for table in sorted(columns):
        h.update(table.encode())
        h.update("\x1f".join(map(str, columns[table])).encode())
        if len(rows[table]):
            h.update(rows[table].tobytes())
    return h.hexdigest()


def input_files(ledger: pd.DataFrame) -> list[str]:
    """The sha256 of every file the day's publication was made from (sorted, distinct)."""
    if ledger.empty:
        return []
    return sorted(set(ledger["file_id"].dropna().astype("str")))


def inputs_digest(file_ids: list[str]) -> str:
    return hashlib.sha256("\n".join(file_ids).encode()).hexdigest()


def diff_rows(old: pd.DataFrame, new: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """One row per key whose row was added, removed or changed in any column.

    Columns: the key, ``change``, and ``old_<c>`` / ``new_<c>`` for every other column
    (``period`` excepted). Missing equals missing; floats compare exactly (they
    round-trip the warehouse unchanged).
    """
    values = [c for c in new.columns if c not in key and c != "period"]
    merged = old.reindex(columns=[*key, *values]).merge(
        new.reindex(columns=[*key, *values]),
        on=key,
        how="outer",
        suffixes=("_old", "_new"),
        indicator=True,
    )
    differs = np.zeros(len(merged), dtype=bool)
    for c in values:
        a, b = merged[f"{c}_old"], merged[f"{c}_new"]
        same = (a == b).fillna(False).to_numpy(dtype=bool) | (a.isna() & b.isna()).to_numpy()
        differs |= ~same
    side = merged["_merge"].astype("str").to_numpy()
    change = np.select(
        [side == "right_only", side == "left_only", differs], ["added", "removed", "changed"], ""
    )
    out = merged.loc[change != "", key].copy()
    out["change"] = change[change != ""]
    for c in values:
        out[f"old_{c}"] = merged.loc[change != "", f"{c}_old"].to_numpy()
        out[f"new_{c}"] = merged.loc[change != "", f"{c}_new"].to_numpy()
    return out.reset_index(drop=True)


def reporter_causes(
    old_report: pd.DataFrame,
    new_report: pd.DataFrame,
    ledger: pd.DataFrame,
    waivers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per reporter whose published row changed: a cause line a steward can read.

    Columns ``unit_code``, ``cause``. A new file (its channel says how it came: a
    steward's correction, a mailed or uploaded file) or a row gone (rejected, superseded).
    A row published now because a steward accepted (放行) or kept it (``waivers``: the
    day's ``review_waiver`` rows naming it) is the steward's doing, not its file's: the
    cause names the steward, when, and the row.
    """
    meta = {"period", "unit_name", "received_at", "sheet", "row_number"}
    compare = [c for c in new_report.columns if c not in meta]
    changed = diff_rows(old_report[compare], new_report[compare], ["unit_code"])
    if changed.empty:
        return pd.DataFrame(columns=["unit_code", "cause"])
    files = ledger.drop_duplicates("file_id").set_index("file_id")
    names = pd.concat(
        [
            old_report.set_index("unit_code")["unit_name"],
            new_report.set_index("unit_code")["unit_name"],
        ]
    )
    # plain dicts and lists: a re-sent day changes every reporter, and pandas element
    # access per row cost seconds per 50,000 reporters
    name_of = names[~names.index.duplicated(keep="last")].to_dict()
    channel_of = files["channel"].to_dict() if "channel" in files else None
    file_name_of = files["file_name"].to_dict() if "file_name" in files else None
    by_steward = _steward_rows(new_report, waivers)
    lines = []
    for code, change, old_file, new_file in zip(
        changed["unit_code"].tolist(),
        changed["change"].tolist(),
        changed["old_file_id"].tolist(),
        changed["new_file_id"].tolist(),
        strict=True,
    ):
        who = f"{code} {name_of.get(code, '')}".strip()
        if change == "removed":
            lines.append(f"{who}：撤回 row withdrawn")
            continue
        file_id = str(new_file)
        channel = str(channel_of.get(file_id, "")) if channel_of is not None else ""
        how = CHANNEL_CAUSES.get(channel, "新报送 new file")
        # the file's name as its sender gave it; its sha256 belongs in lineage, not here
        name = file_name_of.get(file_id) if file_name_of is not None else None
        name = name if isinstance(name, str) and name else UNNAMED_FILE
        same_file = change == "changed" and old_file == new_file
        if code in by_steward and not same_file:
            lines.append(f"{who}：{by_steward[code]}")
            continue
        lines.append(f"{who}：{'数值变化 values changed' if same_file else how} {name}")
    return pd.DataFrame({"unit_code": changed["unit_code"].to_numpy(), "cause": lines})


STEWARD_CAUSES = {
    KEEP: "管理员保留此行 / steward kept this row",
    "": "管理员放行 / steward accepted",
}


def _steward_rows(report: pd.DataFrame, waivers: pd.DataFrame | None) -> dict[str, str]:
    """Reporter code → the steward's action that let its published row through (the
    newest waiver naming the row: who, when in Beijing time, which file, sheet and row)."""
    need = {"file_id", "sheet", "row_number", "file_name"}
    if waivers is None or waivers.empty or report.empty or not need <= set(report.columns):
        return {}
    rows = report.assign(
        file_id=report["file_id"].astype("str"),
        sheet=report["sheet"].fillna("").astype("str"),
        row_number=pd.to_numeric(report["row_number"]).astype("int64"),
    )
    w = waivers.assign(
        file_id=waivers["file_id"].astype("str"),
        sheet=waivers["sheet"].fillna("").astype("str"),
        row_number=pd.to_numeric(waivers["row_number"]).astype("int64"),
        _at=pd.to_datetime(waivers["at"], utc=True, format="ISO8601"),
    ).sort_values("_at", kind="stable")
    hit = rows.merge(w, on=["file_id", "sheet", "row_number"], how="inner")
    out: dict[str, str] = {}
    for rec in hit.drop_duplicates("unit_code", keep="last").to_dict("records"):
        what = STEWARD_CAUSES[KEEP if rec["rule"] == KEEP else ""]
        sheet = f" {rec['sheet']}" if rec["sheet"] else ""
        row = int(rec["row_number"])
        out[str(rec["unit_code"])] = (
            f"{what}（{rec['username']}，{local_time(rec['_at'])}）"
            f" {rec['file_name']}{sheet} 第{row}行 row {row}"
        )
    return out


def collapse_causes(lines: list[str]) -> str:
    """Reporter cause lines (``who：what``) said once per what: one re-sent file that
    changed 15 villages reads ``收件箱文件 inbox file X：东关村、北关村…等共15个单位``, not
    the same file named 15 times."""
    whos: dict[str, list[str]] = {}
    for line in lines:
        who, sep, what = line.partition("：")
        whos.setdefault(what if sep else line, []).append(who if sep else "")
    parts = []
    for what, names in whos.items():
        names = [n for n in names if n]
        if not names:
            parts.append(what)
            continue
        head = "、".join(n.split(" ", 1)[-1] for n in names[:CAUSE_CAP])
        more = f"等共{len(names)}个单位" if len(names) > CAUSE_CAP else ""
        parts.append(f"{what}：{head}{more}")
    return "; ".join(parts)


def unit_causes(reporters: pd.DataFrame, units: pd.DataFrame) -> pd.Series:
    """Cause per aggregated unit: the changed reporters of its subtree (first few, then
    how many in all); index unit code. ``units``: the registry's units."""
    if reporters.empty:
        return pd.Series(dtype="str")
    ancestors = ["province_code", "city_code", "county_code", "township_code", "parent_code"]
    own = units.set_index("code").reindex(reporters["unit_code"])
    pairs = [pd.DataFrame({"unit": reporters["unit_code"].to_numpy(), "cause": reporters["cause"]})]
    for col in ancestors:
        if col in own.columns:
            pairs.append(
                pd.DataFrame({"unit": own[col].to_numpy(), "cause": reporters["cause"].to_numpy()})
            )
    long = pd.concat(pairs, ignore_index=True).dropna().drop_duplicates()
    long = long[long["unit"].astype("str").str.len() > 0]
    out: dict[object, str] = {}
    # one sort and a walk over it (a pandas group per unit cost seconds at province size)
    for unit, group in itertools.groupby(
        sorted(zip(long["unit"].tolist(), long["cause"].tolist(), strict=True)),
        key=operator.itemgetter(0),
    ):
        out[unit] = collapse_causes([cause for _, cause in group])
    if not out:
        return pd.Series(dtype="str")
    return pd.Series(out, dtype="str").rename_axis("unit").rename("cause")


def plan_version(
    *,
    day: str,
    latest: tuple[int, str] | None,
    had_rows: bool,
    digest: str,
    provenance: Provenance,
    inputs: list[str],
    old: Mapping[str, pd.DataFrame],
    new: Mapping[str, pd.DataFrame],
    causes: pd.Series,
    signoffs: pd.DataFrame | None = None,
    now: datetime | None = None,
) -> VersionPlan:
    """Decide the version of this publish of ``day`` from the day's latest version and
    the rows it replaces.

    ``latest``: (version, tables_digest) of the day's latest version, None if none;
    ``had_rows``: the day has published rows (it may predate versions: they are then
    recorded as version 1 and this publish becomes version 2).
    ``signoffs``: the day's sign-offs (``unit_code``, ``version``, ``username``): a
    publish that changes a signed-off unit is a restatement, and says whose sign-off.
    """
    backfill_first = None
    if latest is None and had_rows:
        before = Provenance("manual", None, "版本记录之前的发布 published before versions")
        backfill_first = _record(FIRST_VERSION, None, before, [], "", 0, 0)
        latest = (FIRST_VERSION, "")
    if latest is not None and latest[1] == digest:
        return VersionPlan(latest[0], True, {}, pd.DataFrame(), {}, None)
    version = FIRST_VERSION if latest is None else latest[0] + 1
    changes: dict[str, pd.DataFrame] = {}
    if latest is not None:
        for table, key in VERSIONED.items():
            rows = diff_rows(old[table], new[table], key)
            rows.insert(0, "version", version)
            rows.insert(0, "period", day)
            rows["cause"] = rows["unit_code"].map(causes).astype("str")
            changes[table] = rows
    cons = changes.get("consolidated", pd.DataFrame(columns=["unit_code", "change"]))
    changed = value_changed(cons)  # values only: a change of reporting_units alone is not one
    record = _record(
        version,
        now or datetime.now(UTC),
        provenance,
        inputs,
        digest,
        int(changed.sum()),
        int(cons.loc[changed.to_numpy(), "unit_code"].nunique()),
    )
    restated = restated_signoffs(signoffs, cons)
    record["restatement"] = int(len(restated) > 0)
    record["restated"] = (
        "; ".join(f"{r.unit_code} {r.username} v{r.version}" for r in restated.itertuples()) or None
    )
    inputs_frame = pd.DataFrame({"period": day, "version": version, "file_id": inputs})
    return VersionPlan(version, False, record, inputs_frame, changes, backfill_first)


def _record(
    version: int,
    at: datetime | None,
    provenance: Provenance,
    inputs: list[str],
    digest: str,
    changed_values: int,
    changed_units: int,
) -> dict[str, object]:
    return {
        "version": version,
        "published_at": at,
        "trigger": provenance.trigger,
        "run_id": provenance.run_id,
        "note": provenance.note,
        "inputs": len(inputs),
        "inputs_digest": inputs_digest(inputs),
        "tables_digest": digest,
        "changed_values": changed_values,
        "changed_units": changed_units,
        "restatement": 0,
        "restated": None,
    }


def restated_signoffs(signoffs: pd.DataFrame | None, changes: pd.DataFrame) -> pd.DataFrame:
    """The sign-offs whose unit's published values this version changes (latest each)."""
    if signoffs is None or signoffs.empty or changes.empty:
        return pd.DataFrame(columns=["unit_code", "version", "username"])
    hit = signoffs[signoffs["unit_code"].astype("str").isin(set(changes["unit_code"]))]
    hit = hit.sort_values(["unit_code", "version"]).drop_duplicates("unit_code", keep="last")
    return hit[["unit_code", "version", "username"]].reset_index(drop=True)
