PRAGMA cache_size = -262144
