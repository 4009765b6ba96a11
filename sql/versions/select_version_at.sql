SELECT MAX(version) AS version FROM publish_version
WHERE period = :period AND published_at <= :at
