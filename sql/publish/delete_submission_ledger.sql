DELETE FROM submission_ledger WHERE period = :period
