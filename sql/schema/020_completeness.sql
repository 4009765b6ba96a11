CREATE TABLE IF NOT EXISTS completeness (
    period DATE NOT NULL,
    unit_code TEXT NOT NULL,
    unit_name TEXT,
    level BIGINT NOT NULL,
    kind TEXT NOT NULL,
    expected_units BIGINT NOT NULL,
    reported_units BIGINT NOT NULL,
    missing_units BIGINT NOT NULL,
    reporting_rate DOUBLE PRECISION,
    on_time_units BIGINT,
    late_units BIGINT,
    missing_list TEXT,
    PRIMARY KEY (period, unit_code)
)
