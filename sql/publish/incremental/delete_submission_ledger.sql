DELETE FROM submission_ledger WHERE period = :period AND file_id = :file_id
