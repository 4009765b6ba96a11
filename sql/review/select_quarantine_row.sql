SELECT * FROM quarantine
WHERE period = :period AND file_id = :file_id AND COALESCE(sheet, '') = :sheet
    AND row_number = :row_number
