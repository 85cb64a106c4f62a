-- overdue_complaints: one row per open complaint (status not closed or archived) and milestone
-- whose event has not happened although $as_of is past the deadline. days_overdue = working days
-- after the deadline up to $as_of (0 when $as_of is a weekend or holiday right after it).
-- No personal data, no title or body.
-- Inputs: complaint_milestones; parameter $as_of.
CREATE OR REPLACE TEMP TABLE overdue_complaints AS
SELECT
    complaint_id,
    source_id,
    institution_id,
    classification,
    status,
    milestone,
    day0,
    limit_wd,
    deadline,
    wd_past_deadline AS days_overdue,
    CAST($as_of AS DATE) AS as_of
FROM complaint_milestones
WHERE outcome = 'breached'
    AND event_day IS NULL
    AND status NOT IN ('closed', 'archived')
ORDER BY institution_id, days_overdue DESC, complaint_id, milestone
