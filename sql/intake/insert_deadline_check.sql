INSERT INTO deadline_check (period, level, deadline, expected_units, missing_units, listed_at)
VALUES (:period, :level, :deadline, :expected_units, :missing_units, :listed_at)
