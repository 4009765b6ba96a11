"""The code a clerk probably meant when the unit code written is not in the register.

Unknown codes are few on any day (tens, against 620,573 villages), so the work is done
per *distinct* unknown code, each step bounded:

1. the code with full-width digits, spaces and dashes normalised, if that is known;
2. codes at edit distance 1 (one digit changed, dropped, added, or two neighbours
   swapped): the ~300 one-edit variants of the code looked up in a set;
3. same-length codes of the same county (first 6 digits) at Hamming distance 2 (two
   digits changed): one vectorised numpy comparison over that county's codes (a sorted
   range, found by binary search);
4. failing all that, a reporter whose *name* is exactly the name written, in the same
   county (first 6 digits) as the code written.

Among candidates: the one named as written wins, then the same township (first 9 digits)
as the code written, then the smaller distance, then the same county, then the code.

A row with a name but no code at all gets the code of that name in its file's township
(:func:`suggest_codes_by_name`), so the clerk is told which code was left out.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from huizong.registry import Registry

_ALPHABET = "0123456789D"
_NOISE = re.compile(r"[\s\-_'‘’`]")


def _reporters(registry: Registry) -> pd.DataFrame:
    """Codes a report may carry: villages/communities and departments."""
    rep = registry.reporters[["code", "name"]]  # codes are unique in a registry
    return rep.astype({"code": "str", "name": "str"}).reset_index(drop=True)


def _normalise(code: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", code)).upper()


def _edits1(code: str) -> set[str]:
    """Every string one edit (incl. an adjacent transposition) away from ``code``."""
    splits = [(code[:i], code[i:]) for i in range(len(code) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1 and b[0] != b[1]}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _ALPHABET if c != b[0]}
    inserts = {a + c + b for a, b in splits for c in _ALPHABET}
    return deletes | swaps | replaces | inserts


class _Index:
    """Reporter codes as a set (distance 1) and sorted, for prefix ranges (distance 2)."""

    def __init__(self, reporters: pd.DataFrame) -> None:
        ordered = reporters.sort_values("code", kind="stable")
        self.codes = ordered["code"].to_numpy(dtype=object)
        self.names = ordered["name"].to_numpy(dtype=object)
        self.known = set(self.codes.tolist())
        self.position = {c: i for i, c in enumerate(self.codes.tolist())}

    def _county(self, code: str) -> np.ndarray:
        """Codes sharing the first 6 characters (the county) with ``code``."""
        prefix = code[:6]
        lo = int(np.searchsorted(self.codes, prefix, side="left"))
        hi = int(np.searchsorted(self.codes, prefix + "\uffff", side="left"))
        return self.codes[lo:hi]

    def within_two(self, code: str) -> dict[str, int]:
        """Known codes at distance 1 (anywhere) or 2 (same county, same length)."""
        found = {c: 1 for c in _edits1(code) & self.known}
        if code.isascii() and len(code) >= 6:
            near = [c for c in self._county(code).tolist() if len(c) == len(code)]
            if near:
                mat = np.frombuffer("".join(near).encode("ascii", "replace"), dtype=np.uint8)
                mat = mat.reshape(len(near), len(code))
                probe = np.frombuffer(code.encode("ascii"), dtype=np.uint8)
                hamming = (mat != probe).sum(axis=1)
                for i in np.flatnonzero(hamming == 2).tolist():
                    found.setdefault(near[i], 2)
        return found


def _best(code: str, name: str, found: dict[str, int], index: _Index) -> str | None:
    if not found:
        return None

    def key(c: str) -> tuple[bool, bool, int, bool, str]:
        named = bool(name) and index.names[index.position[c]] == name
        return (not named, c[:9] != code[:9], found[c], c[:6] != code[:6], c)

    return min(found, key=key)


def _by_name(code: str, name: str, index: _Index) -> str | None:
    if not name:
        return None
    hits = [
        c for c in index.codes[index.names == name].tolist() if len(code) >= 6 and c[:6] == code[:6]
    ]
    return hits[0] if len(hits) == 1 else None


def suggest_unit_codes(
    codes: pd.Series, registry: Registry, names: pd.Series | None = None
) -> pd.Series:
    """For each code, the known reporter code the clerk most likely meant (NA = none).

    ``names`` (aligned with ``codes``) are the unit names written beside the codes: a
    candidate carrying exactly that name is preferred, and is found even when the code
    is too far off. Known codes and blanks get NA.
    """
    out = pd.Series(pd.NA, index=codes.index, dtype="str")
    if codes.empty:
        return out
    written_names = (
        names.astype("str").fillna("").str.strip()
        if names is not None
        else pd.Series("", index=codes.index, dtype="str")
    )
    pairs = pd.DataFrame({"code": codes.astype("str"), "name": written_names})
    pairs = pairs[pairs["code"].notna() & (pairs["code"].str.strip() != "")]
    if pairs.empty:
        return out
    index = _Index(_reporters(registry))
    unknown = [c not in index.known for c in pairs["code"].tolist()]  # few rows: a set
    pairs = pairs[np.array(unknown, dtype=bool)]
    chosen: dict[tuple[str, str], str | None] = {}
    for code, name in pairs.drop_duplicates().itertuples(index=False):
        clean = _normalise(code)
        if clean in index.known:
            chosen[(code, name)] = clean
            continue
        pick = _best(clean, name, index.within_two(clean), index)
        chosen[(code, name)] = pick or _by_name(clean, name, index)
    keys = list(zip(pairs["code"], pairs["name"], strict=True))
    out.loc[pairs.index] = pd.Series([chosen[k] for k in keys], index=pairs.index, dtype="str")
    return out


def suggest_codes_by_name(names: pd.Series, townships: pd.Series, registry: Registry) -> pd.Series:
    """For rows written without a code: the reporter carrying exactly the name written
    (NFKC, spaces ignored) in the row's file township (``townships``, NA when the file
    is not one township's batch), else the only reporter of that name in the registry.
    NA when there is none or the name is ambiguous."""
    out = pd.Series(pd.NA, index=names.index, dtype="str")
    written = names.astype("str").fillna("").map(_plain_name)
    wanted = written != ""
    if not wanted.any():
        return out
    rep = _reporters(registry)
    rep = rep.assign(key=rep["name"].map(_plain_name), township=rep["code"].str.slice(0, 9))
    rep = rep[rep["key"].isin(set(written[wanted]))]
    in_township = rep.drop_duplicates(["township", "key"], keep=False)
    by_township = in_township.set_index(["township", "key"])["code"]
    unique = rep.drop_duplicates("key", keep=False).set_index("key")["code"]
    for i in written.index[wanted]:
        town, key = townships.get(i), written[i]
        if isinstance(town, str) and (town, key) in by_township.index:
            out[i] = by_township[(town, key)]
        elif not isinstance(town, str) and key in unique.index:
            out[i] = unique[key]
    return out


def _plain_name(name: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


def suggested_names(suggested: pd.Series, registry: Registry) -> pd.Series:
    """The registry name of each suggested code (NA where there is no suggestion)."""
    names = registry.units.drop_duplicates("code").set_index("code")["name"]
    return suggested.map(names).astype("str")


__all__ = ["suggest_codes_by_name", "suggest_unit_codes", "suggested_names"]
