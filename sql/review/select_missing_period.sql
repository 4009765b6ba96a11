SELECT unit_code, unit_name, kind, parent_code, township_code, county_code, city_code FROM missing_reporter WHERE period = :period ORDER BY township_code, unit_code
