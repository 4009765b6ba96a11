CREATE TABLE IF NOT EXISTS validation_warning (
    period DATE NOT NULL,
    stated_period TEXT,
    file_id TEXT NOT NULL,
    file_name TEXT,
    sheet TEXT,
    row_number BIGINT,
    unit_code TEXT,
    unit_name TEXT,
    "column" TEXT,
    value TEXT,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    message_zh TEXT,
    message_en TEXT
)
