"""Great Expectations suites generated from the indicator catalogue.

One suite per report form (``expectations/<form>.json``). Severity uses GX's own field:
``critical`` = error (the row is quarantined), ``warning`` = the row passes with a warning.
Each expectation's ``meta`` carries the Huizong rule code and the column it is about, so a
failure maps straight to an ISSUE row. One suite (not one per severity) means one
validation pass over the frame: GX computes shared metrics once.

The JSON is generated, never hand-edited: ``huizong.validate.suites.main([FOLDER])``
rewrites it, and a unit test fails when the committed files differ from the catalogue.
GX is imported inside functions only (importing it costs seconds: never at DAG parse time).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huizong import frames
from huizong.catalogue import DEFAULT_FORM, Catalogue, load_catalogue

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuite

#: Columns derived from the registry before validation (not part of RECEIVED).
UNIT_LEVEL = "_unit_level"
UNIT_KIND = "_unit_kind"
#: The township of a known village, and the township its file is a batch of (NA when the
#: file is not one township's batch): see ``rows.file_townships``.
UNIT_TOWNSHIP = "_unit_township"
FILE_TOWNSHIP = "_file_township"
#: How many indicators the row says something about (``huizong.given.values_given``).
VALUES_GIVEN = "_values_given"
DERIVED_COLUMNS = (UNIT_LEVEL, UNIT_KIND, UNIT_TOWNSHIP, FILE_TOWNSHIP, VALUES_GIVEN)

#: Suite parameter holding the reporting day (a one-element list of the ISO date).
DAY_PARAMETER = "reporting_day"

#: GX severity → Huizong severity.
SEVERITY = {"critical": "error", "warning": "warning"}

#: cell_errors values meaning "no cell could not be parsed" (NA passes as well).
NO_CELL_ERRORS = ["", "[]"]


def import_gx() -> Any:
    """Import GX quietly: no usage analytics, no INFO flood."""
    import logging

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    return gx


def expectations_dir() -> Path:
    """``$HUIZONG_EXPECTATIONS`` or the repository's ``expectations/`` folder."""
    env = os.environ.get("HUIZONG_EXPECTATIONS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "expectations"


def suite_file(folder: Path, form: str) -> Path:
    return Path(folder) / f"{form}.json"


def _specs(catalogue: Catalogue) -> list[tuple[str, dict[str, Any], str, str, str | None]]:
    """(GX type, kwargs, severity, rule code, column) for every check, in a stable order."""
    specs: list[tuple[str, dict[str, Any], str, str, str | None]] = []
    required = [*frames.RECEIVED_META, *catalogue.codes, *DERIVED_COLUMNS]
    # one table-level check (not one per column: each expectation costs GX overhead)
    specs += [
        (
            "ExpectTableColumnsToMatchSet",
            {"column_set": required, "exact_match": False},
            "critical",
            "structure",
            None,
        ),
        (
            "ExpectColumnValuesToNotBeNull",
            {"column": "unit_code"},
            "critical",
            "unit_code_present",
            "unit_code",
        ),
        (
            "ExpectColumnValuesToNotBeNull",
            {"column": UNIT_LEVEL, "row_condition": "_CODE_GIVEN"},
            "critical",
            "unit_known",
            "unit_code",
        ),
        (
            "ExpectColumnPairValuesToBeEqual",
            {
                "column_A": UNIT_KIND,
                "column_B": "claimed_kind",
                "ignore_row_if": "either_value_is_missing",
            },
            "critical",
            "unit_kind",
            "unit_code",
        ),
        (
            "ExpectColumnPairValuesToBeEqual",
            {
                "column_A": UNIT_TOWNSHIP,
                "column_B": FILE_TOWNSHIP,
                "ignore_row_if": "either_value_is_missing",
            },
            "critical",
            "unit_in_file_township",
            "unit_code",
        ),
        (
            "ExpectColumnValuesToNotBeNull",
            {"column": "period"},
            "critical",
            "period_present",
            "period",
        ),
        (
            "ExpectColumnValuesToBeInSet",
            {"column": "period", "value_set": {"$PARAMETER": DAY_PARAMETER}},
            "critical",
            "period_is_day",
            "period",
        ),
        (
            "ExpectCompoundColumnsToBeUnique",
            {"column_list": ["unit_code", "period"], "ignore_row_if": "any_value_is_missing"},
            "critical",
            "unique_unit_day",
            None,
        ),
        (
            "ExpectColumnValuesToBeInSet",
            {"column": "cell_errors", "value_set": NO_CELL_ERRORS},
            "critical",
            "cell_parse",
            "cell_errors",
        ),
        (
            # a template returned with nothing filled in: passes, but is not a report
            "ExpectColumnValuesToBeBetween",
            {"column": VALUES_GIVEN, "min_value": 1},
            "warning",
            "empty_report",
            None,
        ),
    ]
    for ind in catalogue.numeric:
        bounds: dict[str, Any] = {"column": ind.code, "min_value": ind.min}
        if ind.max is not None:
            bounds["max_value"] = ind.max
        # one "between" per indicator; below min → min:<code>, above max → max:<code>
        specs.append(
            ("ExpectColumnValuesToBeBetween", bounds, "critical", f"range:{ind.code}", ind.code)
        )
    for ind in catalogue.numeric:
        if ind.warn_above is not None:
            specs.append(
                (
                    "ExpectColumnValuesToBeBetween",
                    {"column": ind.code, "max_value": ind.warn_above},
                    "warning",
                    f"warn_above:{ind.code}",
                    ind.code,
                )
            )
    for rule in catalogue.rules:
        # left <= right  ⇔  A=right >= B=left
        if rule.op in ("<=", "<"):
            a, b = rule.right, rule.left
        else:
            a, b = rule.left, rule.right
        specs.append(
            (
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": a,
                    "column_B": b,
                    "or_equal": rule.op in ("<=", ">="),
                    "ignore_row_if": "either_value_is_missing",
                },
                "critical" if rule.severity == "error" else "warning",
                f"rule:{rule.code}",
                rule.left,
            )
        )
    return specs


def build_suites(catalogue: Catalogue) -> list[ExpectationSuite]:
    """The form's suite (a list so that a form may later split into several)."""
    gx = import_gx()
    from great_expectations.expectations.row_conditions import Column

    expectations = []
    for type_name, kwargs, severity, rule, column in _specs(catalogue):
        kwargs = dict(kwargs)
        if kwargs.get("row_condition") == "_CODE_GIVEN":
            kwargs["row_condition"] = Column("unit_code").is_not_null()
        cls = getattr(gx.expectations, type_name)
        expectations.append(cls(**kwargs, severity=severity, meta={"rule": rule, "column": column}))
    suite = gx.ExpectationSuite(
        name=catalogue.form,
        expectations=expectations,
        meta={
            "form": catalogue.form,
            "catalogue_version": catalogue.version,
            "generated_by": "huizong.validate.suites.build_suites",
        },
    )
    return [suite]


def suite_json(suite: ExpectationSuite) -> dict[str, Any]:
    """JSON form of a suite, without the GX version stamp (so upgrades don't churn it)."""
    data = suite.to_json_dict()
    data["meta"] = {
        k: v for k, v in data.get("meta", {}).items() if k != "great_expectations_version"
    }
    return data


def dumps(suite: ExpectationSuite) -> str:
    return json.dumps(suite_json(suite), ensure_ascii=False, indent=2) + "\n"


def write_suites(folder: str | Path, catalogues: list[Catalogue] | None = None) -> list[Path]:
    """(Re)generate the suite JSON files of the given forms (default: the shipped form)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for cat in catalogues or [load_catalogue(DEFAULT_FORM)]:
        for suite in build_suites(cat):
            path = suite_file(folder, suite.name)
            path.write_text(dumps(suite), encoding="utf-8")
            written.append(path)
    return written


def load_suite(catalogue: Catalogue) -> ExpectationSuite:
    """The committed suite of the form; built from the catalogue if the folder is absent
    (e.g. in an installed wheel that ships no ``expectations/``)."""
    gx = import_gx()
    path = suite_file(expectations_dir(), catalogue.form)
    if not path.exists():
        return build_suites(catalogue)[0]
    return gx.ExpectationSuite(**json.loads(path.read_text(encoding="utf-8")))


def load_suite_json(catalogue: Catalogue) -> dict[str, Any]:
    """The committed suite of the form as JSON, read without importing GX (the fast
    engine's input); built with GX from the catalogue if the folder is absent."""
    path = suite_file(expectations_dir(), catalogue.form)
    if not path.exists():
        return suite_json(build_suites(catalogue)[0])
    return json.loads(path.read_text(encoding="utf-8"))


def expectation_info(config: Any) -> tuple[str, str, str | None]:
    """(rule, severity, column) of one expectation configuration from a validation result."""
    meta = config.meta or {}
    severity = getattr(config, "severity", None) or "critical"
    severity = getattr(severity, "value", severity)
    return meta.get("rule", config.type), SEVERITY.get(str(severity), "error"), meta.get("column")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    for path in write_suites(Path(args[0]) if args else expectations_dir()):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
