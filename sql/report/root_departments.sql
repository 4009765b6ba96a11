SELECT count(*) FROM completeness WHERE period = :p AND kind = 'department'
