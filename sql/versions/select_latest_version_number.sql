SELECT MAX(version) FROM publish_version WHERE period = :period
