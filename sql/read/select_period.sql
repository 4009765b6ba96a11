SELECT * FROM {table} WHERE period = :period
