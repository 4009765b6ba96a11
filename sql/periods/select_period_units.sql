SELECT * FROM {table} WHERE period_type = :period_type AND period_start = :period_start AND unit_code IN :units
