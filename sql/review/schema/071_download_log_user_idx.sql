CREATE INDEX IF NOT EXISTS download_log_user_idx ON download_log (username, unit_code, period_label)
