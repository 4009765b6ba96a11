DELETE FROM report WHERE period = :period
