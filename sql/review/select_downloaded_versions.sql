SELECT period_label, day, MAX(version) AS version FROM download_log
WHERE username = :username AND unit_code = :unit_code AND version IS NOT NULL
GROUP BY period_label, day
