DELETE FROM reader_scope WHERE username = :username AND unit_code = :unit_code
