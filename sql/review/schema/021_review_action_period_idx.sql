CREATE INDEX IF NOT EXISTS review_action_period_idx ON review_action (period, file_id)
