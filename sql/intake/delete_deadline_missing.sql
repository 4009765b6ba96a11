DELETE FROM deadline_missing WHERE period = :period AND level = :level
