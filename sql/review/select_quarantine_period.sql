SELECT * FROM quarantine WHERE period = :period
