ALTER TABLE submission_ledger ADD COLUMN {column} TEXT
