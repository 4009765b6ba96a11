SELECT count(*) AS files,
       sum(rows_received) AS rows_received,
       sum(rows_accepted) AS rows_accepted,
       sum(rows_quarantined) AS rows_quarantined,
       sum(rows_superseded) AS rows_superseded
FROM submission_ledger
WHERE period = :p
