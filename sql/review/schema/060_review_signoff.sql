CREATE TABLE IF NOT EXISTS review_signoff (
    period DATE NOT NULL,
    unit_code TEXT NOT NULL,
    version BIGINT NOT NULL,
    username TEXT NOT NULL,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    note TEXT,
    PRIMARY KEY (period, unit_code, version)
)
