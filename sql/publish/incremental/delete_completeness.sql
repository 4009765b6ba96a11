DELETE FROM completeness WHERE period = :period AND unit_code = :unit_code
