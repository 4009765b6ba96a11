SELECT * FROM {table} WHERE period = :period AND unit_code IN :units
