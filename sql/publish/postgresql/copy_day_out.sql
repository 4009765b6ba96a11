COPY (SELECT {columns} FROM {table} WHERE period = %(period)s) TO STDOUT (FORMAT csv)
