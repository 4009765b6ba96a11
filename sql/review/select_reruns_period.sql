SELECT id, at, username, period, scopes, dag_run_id, justification
FROM review_rerun WHERE period = :period ORDER BY at, id
