"""The contract between pipeline steps: which files each step writes and their columns.

Steps pass data by path (parquet files under ``Settings.run_dir(day)``), never through
XCom. Indicator columns are named by indicator code: numeric ones are pandas ``Int64``
(NA = blank, i.e. not reported, or not applicable, see ``not_applicable``), text ones
``str``. Zero is a real report (零报告) and is never confused with blank.
"""

from __future__ import annotations

# ---- files in the run directory -------------------------------------------------------
RECEIVED = "received.parquet"  # every data row read, one row per (file, sheet, row)
LEDGER = "ledger.parquet"  # one row per file seen in the inbox (as ingest saw it)
ACCOUNTED_LEDGER = "ledger_accounted.parquet"  # LEDGER with validation's row counts
TOTALS = "totals.parquet"  # townships' own total rows (合计), RECEIVED columns; not reports
ACCEPTED = "accepted.parquet"  # rows that passed validation (RECEIVED columns + warnings)
QUARANTINE = "quarantine.parquet"  # one row per (row, failed error-level rule)
WARNINGS = "warnings.parquet"  # one row per (row, failed warning-level rule)
CONSOLIDATED = "consolidated.parquet"  # long: one row per (unit, indicator)
COMPLETENESS = "completeness.parquet"  # one row per aggregated unit
MISSING = "missing.parquet"  # one row per expected reporter that did not report

# ---- RECEIVED / ACCEPTED row identity and metadata ---------------------------------------
ROW_KEY = ["file_id", "sheet", "row_number"]
RECEIVED_META = [
    "file_id",  # sha256 hex of the file's bytes
    "file_name",  # name as received (display only; never used to build a path)
    "sheet",  # sheet name ("" for CSV)
    "row_number",  # 1-based row as the clerk sees it in Excel / line in the CSV
    "unit_code",  # as written (stripped); NA when blank
    "unit_name",  # as written
    "period",  # ISO date string parsed from the row or file; NA when unparseable
    "period_raw",  # the period cell as written
    "claimed_kind",  # "village" (incl. communities) or "department": what the file says
    "received_at",  # UTC time the file arrived (the day's receipt book; never its mtime)
    "not_applicable",  # comma-separated indicator codes marked 不适用 ("" none)
    "cell_errors",  # JSON list of {column, raw, zh, en}: cells that could not be parsed
    "coercions",  # JSON list of {column, raw, value, rule}: certain coercions applied
    "extra",  # JSON object {header: cell as written} of unknown columns ("" none)
    "disposition",  # "candidate" | "superseded"
    "superseded_by",  # file_id of the later revision (NA if not superseded)
    "superseded_reason",  # why, for the ledger and stewards
]

# ---- ISSUES (QUARANTINE and WARNINGS) --------------------------------------------------
ISSUE_COLUMNS = [
    "period",
    "file_id",
    "file_name",
    "sheet",
    "row_number",
    "unit_code",
    "unit_name",
    "column",  # indicator code or field the rule is about (NA for row-level rules)
    "value",  # the offending value as text
    "rule",  # rule code, e.g. "max:masks_in_stock", "unit_known", "rule:confirmed_new_le_total"
    "severity",  # "error" | "warning"
    "message_zh",
    "message_en",
]

# ---- LEDGER ----------------------------------------------------------------------------
LEDGER_COLUMNS = [
    "period",
    "file_id",
    "file_name",
    "source",  # path relative to the inbox
    "size_bytes",
    "received_at",
    "form",
    "units",  # the file's distinct unit codes, sorted, comma-separated (review scopes on it)
    "rows_received",
    "rows_accepted",
    "rows_quarantined",
    "rows_superseded",
    "status",  # accepted | partly_quarantined | quarantined | superseded | duplicate | rejected
    "duplicate_of",  # file_id of the identical earlier file (status duplicate)
    "extra_columns",  # unknown columns, comma-separated (kept, warned)
    "message",  # why rejected / notes for the clerk
    "channel",  # how it arrived: folder | mail | upload | review (huizong.ingest.receipts)
    "sender",  # mail address or user who sent it ("" when unknown)
    "sender_unit",  # unit the sources file maps the sender to ("" when not listed)
]

# ---- CONSOLIDATED ----------------------------------------------------------------------
CONSOLIDATED_COLUMNS = [
    "period",
    "unit_code",
    "unit_name",
    "level",
    "kind",
    "parent_code",
    "indicator",
    "value",  # float64 (exact for integer sums below 2**53); NA when no value
    "value_text",  # text indicators: "单位名: 内容" lines; NA otherwise
    "status",  # reported | not_reported | not_applicable
    "reporting_units",  # reporters in the subtree that gave a value for this indicator
    "expected_units",  # reporters expected in the subtree
]

COMPLETENESS_COLUMNS = [
    "period",
    "unit_code",
    "unit_name",
    "level",
    "kind",
    "expected_units",
    "reported_units",
    "missing_units",
    "reporting_rate",  # reported / expected, in [0, 1]
    "on_time_units",
    "late_units",
    "missing_list",  # "code 名称" of missing reporters, "; "-separated (townships: all)
]

MISSING_COLUMNS = [
    "period",
    "unit_code",
    "unit_name",
    "kind",
    "parent_code",
    "township_code",
    "county_code",
    "city_code",
]

VALUE_STATUSES = ("reported", "not_reported", "not_applicable")
