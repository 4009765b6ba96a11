CREATE INDEX IF NOT EXISTS consolidated_change_key_idx
    ON consolidated_change (period, unit_code, indicator, version)
