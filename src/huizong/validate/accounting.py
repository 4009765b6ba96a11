"""Row accounting per file: every row received is accepted, quarantined or superseded.

A row ingest marked superseded but that validation accepted or quarantined is counted
as such, not superseded: the later report that replaced it failed the checks, so it is
back in use (:mod:`huizong.validate.day`).

The invariant ``rows_received == rows_accepted + rows_quarantined + rows_superseded``
is checked for every file; breaking it raises :class:`AccountingError` instead of
publishing a total that silently lost rows.
"""

from __future__ import annotations

import pandas as pd

from huizong import frames
from huizong.validate.rows import ValidationResult

KEEP_STATUS = frozenset({"duplicate", "rejected"})


class AccountingError(AssertionError):
    """Rows went missing (or were counted twice) between RECEIVED and the step's output."""


def _per_file(keys: pd.DataFrame, index: pd.Index) -> pd.Series:
    counts = keys.drop_duplicates(frames.ROW_KEY).groupby("file_id").size()
    return counts.reindex(index, fill_value=0).astype("int64")


def account(ledger: pd.DataFrame, received: pd.DataFrame, result: ValidationResult) -> pd.DataFrame:
    """Fill rows_accepted/quarantined/superseded and status per file; check the invariant."""
    ledger = ledger.copy()
    files = pd.Index(ledger["file_id"].astype("str"))
    unknown = set(received["file_id"].astype("str")) - set(files)
    if unknown:
        raise AccountingError(f"rows from files missing in the ledger: {sorted(unknown)[:5]}")
    accepted_keys = result.accepted[frames.ROW_KEY]
    quarantined_keys = result.quarantine[frames.ROW_KEY]
    both = accepted_keys.merge(quarantined_keys.drop_duplicates(), on=frames.ROW_KEY)
    if not both.empty:
        raise AccountingError(f"{len(both)} rows are both accepted and quarantined")

    in_received = received.groupby(received["file_id"].astype("str")).size()
    in_received = in_received.reindex(files, fill_value=0).astype("int64")
    superseded = received[received["disposition"] == "superseded"]
    # a superseded row validation gave a verdict to is back in use (a later report failed)
    judged = pd.MultiIndex.from_frame(
        pd.concat([accepted_keys, quarantined_keys])[frames.ROW_KEY].astype(
            {"file_id": "str", "sheet": "str", "row_number": "int64"}
        )
    )
    sup_keys = superseded[frames.ROW_KEY].astype(
        {"file_id": "str", "sheet": "str", "row_number": "int64"}
    )
    superseded = superseded[~pd.MultiIndex.from_frame(sup_keys).isin(judged)]
    n_acc = _per_file(accepted_keys.astype({"file_id": "str"}), files)
    n_quar = _per_file(quarantined_keys.astype({"file_id": "str"}), files)
    n_sup = _per_file(superseded[frames.ROW_KEY].astype({"file_id": "str"}), files)
    stated = pd.to_numeric(ledger["rows_received"]).fillna(0).astype("int64").to_numpy()

    broken = (stated != in_received.to_numpy()) | (stated != (n_acc + n_quar + n_sup).to_numpy())
    if broken.any():
        i = int(broken.argmax())
        raise AccountingError(
            f"file {files[i]}: rows_received {stated[i]} (RECEIVED has {in_received.iloc[i]})"
            f" != accepted {n_acc.iloc[i]} + quarantined {n_quar.iloc[i]}"
            f" + superseded {n_sup.iloc[i]}"
        )

    ledger["rows_received"] = stated
    ledger["rows_accepted"] = n_acc.to_numpy()
    ledger["rows_quarantined"] = n_quar.to_numpy()
    ledger["rows_superseded"] = n_sup.to_numpy()
    ledger["status"] = _status(ledger)
    return ledger


def _status(ledger: pd.DataFrame) -> pd.Series:
    old = (
        ledger["status"].astype("str") if "status" in ledger else pd.Series("", index=ledger.index)
    )
    acc, quar, sup = ledger["rows_accepted"], ledger["rows_quarantined"], ledger["rows_superseded"]
    status = pd.Series("accepted", index=ledger.index, dtype="str")
    status = status.where(~((quar > 0) & (acc > 0)), "partly_quarantined")
    status = status.where(~((quar > 0) & (acc == 0)), "quarantined")
    status = status.where(~((sup > 0) & (acc == 0) & (quar == 0)), "superseded")
    empty = (acc + quar + sup) == 0
    status = status.where(~(empty & old.notna() & (old != "")), old)
    return status.where(~old.isin(KEEP_STATUS), old)
