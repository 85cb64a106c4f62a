-- complaint_facts: one row per complaint whose local submission date is on or before $as_of,
-- with what the metrics need: its institution's level and province, status, a valid rating
-- (1..5, else NULL = unrated), the SLA outcome per milestone (NULL = not counted) and the working
-- days from forwarding to follow-up.
-- Inputs: complaint_current, sources, complaint_milestones; parameter $as_of.
CREATE OR REPLACE TEMP TABLE complaint_facts AS
SELECT
    c.complaint_id,
    c.institution_id,
    s.level,
    s.province_code,
    c.status,
    CASE WHEN c.rating BETWEEN 1 AND 5 THEN CAST(c.rating AS INTEGER) END AS rating,
    CAST(timezone(c.timezone, c.submitted_at) AS DATE) AS submitted_day,
    m.sla_verification,
    m.sla_forwarding,
    m.sla_first_response,
    m.sla_completion,
    m.wd_to_followup
FROM complaint_current AS c
LEFT JOIN sources AS s ON s.institution_id = c.institution_id
LEFT JOIN (
    SELECT
        complaint_id,
        any_value(outcome) FILTER (WHERE milestone = 'verification') AS sla_verification,
        any_value(outcome) FILTER (WHERE milestone = 'forwarding') AS sla_forwarding,
        any_value(outcome) FILTER (WHERE milestone = 'first_response') AS sla_first_response,
        any_value(outcome) FILTER (WHERE milestone = 'completion') AS sla_completion,
        any_value(wd_to_event) FILTER (WHERE milestone = 'completion') AS wd_to_followup
    FROM complaint_milestones
    GROUP BY complaint_id
) AS m ON m.complaint_id = c.complaint_id
WHERE CAST(timezone(c.timezone, c.submitted_at) AS DATE) <= $as_of
