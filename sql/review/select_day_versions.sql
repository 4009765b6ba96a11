SELECT v.period, v.version, v.published_at, v.trigger, v.run_id
FROM publish_version v
WHERE v.version = (SELECT MAX(w.version) FROM publish_version w WHERE w.period = v.period)
