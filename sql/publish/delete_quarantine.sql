DELETE FROM quarantine WHERE period = :period
