CREATE TABLE IF NOT EXISTS publish_version_input (
    period DATE NOT NULL,
    version BIGINT NOT NULL,
    file_id TEXT NOT NULL,
    PRIMARY KEY (period, version, file_id)
)
