SELECT unit_code, unit_name, level, kind, expected_units, reported_units, missing_units, reporting_rate, on_time_units, late_units FROM completeness WHERE period = :period ORDER BY level, unit_code
