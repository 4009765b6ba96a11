CREATE INDEX IF NOT EXISTS quarantine_period_idx ON quarantine (period, file_id)
