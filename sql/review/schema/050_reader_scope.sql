CREATE TABLE IF NOT EXISTS reader_scope (
    username TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    PRIMARY KEY (username, unit_code)
)
