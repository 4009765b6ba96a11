INSERT INTO publication (period_type, period_start, period_end, period_label, through, published_at, run_id)
VALUES (:period_type, :period_start, :period_end, :period_label, :through, :published_at, :run_id)
