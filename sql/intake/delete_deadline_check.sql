DELETE FROM deadline_check WHERE period = :period AND level = :level
