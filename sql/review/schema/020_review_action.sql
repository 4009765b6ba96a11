CREATE TABLE IF NOT EXISTS review_action (
    id TEXT NOT NULL PRIMARY KEY,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    username TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('accept', 'correct', 'reject', 'mark_reviewed', 'keep')),
    period DATE NOT NULL,
    file_id TEXT NOT NULL,
    sheet TEXT NOT NULL,
    row_number BIGINT NOT NULL,
    unit_code TEXT,
    "column" TEXT,
    rule TEXT,
    old_value TEXT,
    new_value TEXT,
    justification TEXT
)
