ALTER TABLE report ADD COLUMN {column} {type}
