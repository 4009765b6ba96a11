SELECT id, username, unit_code, period_label, fmt, day, version, at FROM download_log
WHERE username = :username ORDER BY at, id, day
