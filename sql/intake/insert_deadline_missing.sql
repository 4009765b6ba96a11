INSERT INTO deadline_missing (period, level, unit_code, unit_name, township_code, township_name, county_code, county_name)
VALUES (:period, :level, :unit_code, :unit_name, :township_code, :township_name, :county_code, :county_name)
