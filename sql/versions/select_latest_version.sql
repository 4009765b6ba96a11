SELECT version, tables_digest FROM publish_version
WHERE period = :period ORDER BY version DESC LIMIT 1
