SELECT period, file_id, file_name, units, status, duplicate_of, sender_unit FROM submission_ledger
