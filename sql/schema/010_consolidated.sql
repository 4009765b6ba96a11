CREATE TABLE IF NOT EXISTS consolidated (
    period DATE NOT NULL,
    unit_code TEXT NOT NULL,
    unit_name TEXT,
    level BIGINT NOT NULL,
    kind TEXT NOT NULL,
    parent_code TEXT,
    indicator TEXT NOT NULL,
    value DOUBLE PRECISION,
    value_text TEXT,
    status TEXT NOT NULL,
    reporting_units BIGINT,
    expected_units BIGINT,
    PRIMARY KEY (period, unit_code, indicator)
)
