SELECT unit_code, unit_name, level, kind, parent_code, value, status, reporting_units, expected_units
FROM consolidated WHERE period = :period AND indicator = :indicator AND level BETWEEN 2 AND 4
ORDER BY level, unit_code
