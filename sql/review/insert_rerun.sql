INSERT INTO review_rerun (id, at, username, period, scopes, dag_run_id, justification)
VALUES (:id, :at, :username, :period, :scopes, :dag_run_id, :justification)
