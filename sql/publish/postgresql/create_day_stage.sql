CREATE TABLE {partition} (LIKE {table} INCLUDING DEFAULTS, CONSTRAINT {check} CHECK (period = {day}))
