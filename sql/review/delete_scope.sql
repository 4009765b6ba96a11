DELETE FROM steward_scope WHERE username = :username AND unit_code = :unit_code
