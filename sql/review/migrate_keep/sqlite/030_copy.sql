INSERT INTO review_action SELECT * FROM review_action_before_keep
