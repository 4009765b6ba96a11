DELETE FROM validation_warning WHERE period = :period
