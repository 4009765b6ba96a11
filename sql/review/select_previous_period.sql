SELECT MAX(period) AS previous_period FROM consolidated WHERE period < :period AND indicator = :indicator
