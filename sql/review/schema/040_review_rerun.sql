CREATE TABLE IF NOT EXISTS review_rerun (
    id TEXT NOT NULL PRIMARY KEY,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    username TEXT NOT NULL,
    period DATE NOT NULL,
    scopes TEXT NOT NULL,
    dag_run_id TEXT NOT NULL,
    justification TEXT NOT NULL
)
