CREATE TABLE {target} (LIKE {source})
