INSERT INTO reader_scope (username, unit_code) VALUES (:username, :unit_code)
ON CONFLICT (username, unit_code) DO NOTHING
