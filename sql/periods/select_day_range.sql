SELECT {columns} FROM {table} WHERE period BETWEEN :start AND :end
