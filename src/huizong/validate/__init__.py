"""VALIDATE step: Great Expectations suites generated from the catalogue.

``validate_rows`` splits the day's candidate rows into accepted / quarantined (+ warnings);
``account`` fills the ledger's row counts and checks that no row was lost. GX itself is
imported lazily, inside the functions that run it.
"""

from huizong.validate.accounting import AccountingError, account
from huizong.validate.day import validate_received
from huizong.validate.rows import ValidationResult, suggest_unit_codes, validate_rows
from huizong.validate.runner import ReceivedContractError

__all__ = [
    "AccountingError",
    "ReceivedContractError",
    "ValidationResult",
    "account",
    "suggest_unit_codes",
    "validate_received",
    "validate_rows",
]
