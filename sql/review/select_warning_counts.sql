SELECT period, unit_code, COUNT(*) AS n FROM validation_warning GROUP BY period, unit_code
