SELECT DISTINCT period_type, period_start, period_label, through FROM period_consolidated
WHERE unit_code = :unit_code
