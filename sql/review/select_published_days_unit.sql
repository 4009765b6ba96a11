SELECT DISTINCT period FROM consolidated WHERE unit_code = :unit_code ORDER BY period DESC
