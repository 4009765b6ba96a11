CREATE TABLE IF NOT EXISTS deadline_check (
    period DATE NOT NULL,
    level TEXT NOT NULL,
    deadline TIMESTAMP WITH TIME ZONE NOT NULL,
    expected_units BIGINT NOT NULL,
    missing_units BIGINT NOT NULL,
    listed_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (period, level)
)
