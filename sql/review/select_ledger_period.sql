SELECT * FROM submission_ledger WHERE period = :period
