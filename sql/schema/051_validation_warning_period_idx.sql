CREATE INDEX IF NOT EXISTS validation_warning_period_idx ON validation_warning (period, file_id)
