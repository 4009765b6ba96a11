SELECT period, file_id, sheet, row_number, rule, username, at, justification
FROM review_waiver WHERE period = :period ORDER BY file_id, sheet, row_number, rule
