DELETE FROM {partition} WHERE period = :period
