DELETE FROM validation_warning WHERE period = :period AND file_id = :file_id AND sheet = :sheet AND row_number = :row_number
