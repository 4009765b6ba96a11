SELECT period, unit_code, COUNT(*) AS n FROM quarantine GROUP BY period, unit_code
