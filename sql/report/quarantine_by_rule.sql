SELECT rule, count(*) AS n
FROM quarantine
WHERE period = :p
GROUP BY rule
ORDER BY n DESC, rule
