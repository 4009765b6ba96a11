CREATE TABLE IF NOT EXISTS download_log (
    id TEXT NOT NULL,
    username TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    period_label TEXT NOT NULL,
    fmt TEXT NOT NULL,
    day DATE NOT NULL,
    version BIGINT,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (id, day)
)
