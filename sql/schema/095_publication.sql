CREATE TABLE IF NOT EXISTS publication (
    period_type TEXT NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    period_label TEXT NOT NULL,
    through DATE NOT NULL,
    published_at TIMESTAMP WITH TIME ZONE NOT NULL,
    run_id TEXT,
    PRIMARY KEY (period_type, period_start)
)
