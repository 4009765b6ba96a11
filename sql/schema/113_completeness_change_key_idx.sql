CREATE INDEX IF NOT EXISTS completeness_change_key_idx
    ON completeness_change (period, unit_code, version)
