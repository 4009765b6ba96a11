SELECT {columns} FROM report
WHERE period >= :since AND period < :day AND unit_code IN :units
ORDER BY period, unit_code
