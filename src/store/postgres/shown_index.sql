-- SQLite's migration of the same index: the inbox counts the mentions it
-- shows by label and time, skipping the folded copies of a campaign.
CREATE INDEX mentions_shown_by_label_time ON mentions (label, created_at) WHERE folded = 0;
