SELECT {columns} FROM report
WHERE period >= :since AND period < :day
ORDER BY period, unit_code
