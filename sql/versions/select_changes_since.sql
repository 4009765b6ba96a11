SELECT * FROM {table} WHERE period = :period AND version > :since
