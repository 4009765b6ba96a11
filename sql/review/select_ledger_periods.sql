SELECT period, units, status FROM submission_ledger
