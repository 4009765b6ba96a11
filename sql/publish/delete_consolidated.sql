DELETE FROM consolidated WHERE period = :period
