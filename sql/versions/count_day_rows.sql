SELECT COUNT(*) FROM consolidated WHERE period = :period
