CREATE TABLE IF NOT EXISTS missing_reporter (
    period DATE NOT NULL,
    unit_code TEXT NOT NULL,
    unit_name TEXT,
    kind TEXT NOT NULL,
    parent_code TEXT,
    township_code TEXT,
    county_code TEXT,
    city_code TEXT,
    PRIMARY KEY (period, unit_code)
)
