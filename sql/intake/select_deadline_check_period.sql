SELECT level, deadline, expected_units, missing_units, listed_at FROM deadline_check WHERE period = :period ORDER BY deadline, level
