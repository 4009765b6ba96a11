DELETE FROM report WHERE period = :period AND unit_code = :unit_code
