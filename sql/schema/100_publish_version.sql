CREATE TABLE IF NOT EXISTS publish_version (
    period DATE NOT NULL,
    version BIGINT NOT NULL,
    published_at TIMESTAMP WITH TIME ZONE,
    trigger TEXT NOT NULL,
    run_id TEXT,
    note TEXT,
    inputs BIGINT NOT NULL,
    inputs_digest TEXT NOT NULL,
    tables_digest TEXT NOT NULL,
    changed_values BIGINT NOT NULL,
    changed_units BIGINT NOT NULL,
    restatement BIGINT NOT NULL DEFAULT 0,
    restated TEXT,
    PRIMARY KEY (period, version)
)
