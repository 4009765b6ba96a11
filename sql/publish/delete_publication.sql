DELETE FROM publication WHERE period_type = :period_type AND period_start = :period_start
