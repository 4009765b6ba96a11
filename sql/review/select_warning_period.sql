SELECT * FROM validation_warning WHERE period = :period
