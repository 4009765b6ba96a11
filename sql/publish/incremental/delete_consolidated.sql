DELETE FROM consolidated WHERE period = :period AND unit_code = :unit_code AND indicator = :indicator
