SELECT file_id, file_name, received_at, channel FROM submission_ledger
WHERE period BETWEEN :start AND :end
    AND (channel = :review OR file_id IN (
        SELECT file_id FROM review_action
        WHERE action = 'correct' AND period BETWEEN :start AND :end
    ))
