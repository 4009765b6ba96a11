ALTER TABLE {partition} ADD CONSTRAINT {name} PRIMARY KEY ({columns})
