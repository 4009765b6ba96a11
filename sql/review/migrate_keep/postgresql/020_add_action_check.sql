ALTER TABLE review_action ADD CONSTRAINT review_action_action_check
    CHECK (action IN ('accept', 'correct', 'reject', 'mark_reviewed', 'keep'))
