INSERT INTO download_log (id, username, unit_code, period_label, fmt, day, version, at)
VALUES (:id, :username, :unit_code, :period_label, :fmt, :day, :version, :at)
