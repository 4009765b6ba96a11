INSERT INTO review_action (
    id, at, username, action, period, file_id, sheet, row_number, unit_code, "column", rule,
    old_value, new_value, justification
) VALUES (
    :id, :at, :username, :action, :period, :file_id, :sheet, :row_number, :unit_code, :column,
    :rule, :old_value, :new_value, :justification
)
