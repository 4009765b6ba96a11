SELECT unit_code FROM reader_scope WHERE username = :username ORDER BY unit_code
