SELECT period, unit_code, version, username, at, note FROM review_signoff
WHERE period = :period ORDER BY unit_code, version
