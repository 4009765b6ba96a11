SELECT MAX(period) FROM consolidated WHERE period BETWEEN :start AND :end
