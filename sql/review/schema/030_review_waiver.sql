CREATE TABLE IF NOT EXISTS review_waiver (
    period DATE NOT NULL,
    file_id TEXT NOT NULL,
    sheet TEXT NOT NULL,
    row_number BIGINT NOT NULL,
    rule TEXT NOT NULL,
    username TEXT NOT NULL,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    justification TEXT NOT NULL,
    PRIMARY KEY (period, file_id, sheet, row_number, rule)
)
