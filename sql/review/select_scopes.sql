SELECT unit_code FROM steward_scope WHERE username = :username ORDER BY unit_code
