CREATE TABLE IF NOT EXISTS deadline_missing (
    period DATE NOT NULL,
    level TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    unit_name TEXT,
    township_code TEXT,
    township_name TEXT,
    county_code TEXT,
    county_name TEXT,
    PRIMARY KEY (period, level, unit_code)
)
