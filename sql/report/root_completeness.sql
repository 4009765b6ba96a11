SELECT unit_name, expected_units, reported_units, reporting_rate, late_units
FROM completeness
WHERE period = :p
  AND kind <> 'department'
  AND level = (SELECT min(level) FROM completeness WHERE period = :p AND kind <> 'department')
