INSERT INTO review_signoff (period, unit_code, version, username, at, note)
VALUES (:period, :unit_code, :version, :username, :at, :note)
