INSERT INTO review_waiver (period, file_id, sheet, row_number, rule, username, at, justification)
VALUES (:period, :file_id, :sheet, :row_number, :rule, :username, :at, :justification)
ON CONFLICT (period, file_id, sheet, row_number, rule) DO UPDATE SET
    username = excluded.username, at = excluded.at, justification = excluded.justification
