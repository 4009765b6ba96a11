CREATE TABLE IF NOT EXISTS report (
    period DATE NOT NULL,
    unit_code TEXT NOT NULL,
    unit_name TEXT,
    file_id TEXT NOT NULL,
    file_name TEXT,
    sheet TEXT,
    row_number BIGINT,
    received_at TIMESTAMP WITH TIME ZONE,
    not_applicable TEXT,
    coercions TEXT,
    {indicator_columns},
    PRIMARY KEY (period, unit_code)
)
