DELETE FROM completeness WHERE period = :period
