CREATE TABLE IF NOT EXISTS org_unit (
    code TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    level BIGINT NOT NULL,
    kind TEXT NOT NULL,
    parent_code TEXT,
    province_code TEXT,
    city_code TEXT,
    county_code TEXT,
    township_code TEXT,
    full_name TEXT
)
