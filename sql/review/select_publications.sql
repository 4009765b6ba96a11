SELECT period_type, period_start, period_end, period_label, through, published_at, run_id
FROM publication
ORDER BY period_end DESC, period_start DESC, period_type
