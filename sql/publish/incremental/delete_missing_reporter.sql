DELETE FROM missing_reporter WHERE period = :period AND unit_code = :unit_code
