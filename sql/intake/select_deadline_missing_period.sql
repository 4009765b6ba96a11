SELECT level, unit_code, unit_name, township_code, township_name, county_code, county_name FROM deadline_missing WHERE period = :period ORDER BY level, county_code, township_code, unit_code
