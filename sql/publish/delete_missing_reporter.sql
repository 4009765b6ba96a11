DELETE FROM missing_reporter WHERE period = :period
