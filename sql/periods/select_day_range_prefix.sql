SELECT {columns} FROM {table}
WHERE period BETWEEN :start AND :end AND unit_code LIKE :prefix ESCAPE '!'
