SELECT * FROM {table} WHERE period BETWEEN :start AND :end
