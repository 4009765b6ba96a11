SELECT id, at, username, action, period, file_id, sheet, row_number, unit_code, "column", rule,
    old_value, new_value, justification
FROM review_action WHERE period BETWEEN :start AND :end ORDER BY at, id
