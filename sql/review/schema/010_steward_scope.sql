CREATE TABLE IF NOT EXISTS steward_scope (
    username TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    PRIMARY KEY (username, unit_code)
)
