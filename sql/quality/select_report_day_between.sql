SELECT {columns} FROM report
WHERE period = :period AND unit_code >= :lo AND unit_code <= :hi
ORDER BY unit_code
