-- complaint_milestones: one row per complaint and SLA milestone (verification, forwarding,
-- first_response, completion) whose start event has happened by $as_of.
-- Inputs: complaint_current, calendar (from WorkingCalendar.calendar_table); parameter $as_of.
-- Every timestamp is judged on its local date in the row's time zone. An event whose local date
-- is after $as_of has not happened yet as of $as_of. Archived complaints have no milestones.
-- deadline = the working day whose wd_index is wd_index(day 0) + limit_wd;
-- outcome: met (event on or before the deadline), breached (event after it, or no event and
-- $as_of past it), pending (no event, deadline not passed).
CREATE OR REPLACE TEMP TABLE complaint_milestones AS
WITH local_days AS (
    SELECT
        complaint_id,
        source_id,
        institution_id,
        classification,
        coalesce(berkadar_pengawasan, false) AS berkadar_pengawasan,
        status,
        CAST(timezone(timezone, submitted_at) AS DATE) AS submitted_day,
        CAST(timezone(timezone, verified_at) AS DATE) AS verified_day,
        CAST(timezone(timezone, forwarded_at) AS DATE) AS forwarded_day,
        CAST(timezone(timezone, first_response_at) AS DATE) AS first_response_day,
        CAST(timezone(timezone, followed_up_at) AS DATE) AS followed_up_day,
        CAST(timezone(timezone, closed_at) AS DATE) AS closed_day
    FROM complaint_current
),
known AS (
    SELECT
        complaint_id,
        source_id,
        institution_id,
        classification,
        berkadar_pengawasan,
        status,
        submitted_day,
        CASE WHEN verified_day <= $as_of THEN verified_day END AS verified_day,
        CASE WHEN forwarded_day <= $as_of THEN forwarded_day END AS forwarded_day,
        CASE WHEN first_response_day <= $as_of THEN first_response_day END AS first_response_day,
        CASE WHEN followed_up_day <= $as_of THEN followed_up_day END AS followed_up_day,
        CASE WHEN closed_day <= $as_of THEN closed_day END AS closed_day
    FROM local_days
    WHERE submitted_day <= $as_of AND status <> 'archived'
),
milestones AS (
    SELECT *, 'verification' AS milestone, submitted_day AS day0, 3 AS limit_wd,
        verified_day AS event_day
    FROM known
    UNION ALL
    SELECT *, 'forwarding', submitted_day, 3, forwarded_day
    FROM known
    UNION ALL
    SELECT *, 'first_response', forwarded_day, 5,
        coalesce(first_response_day, followed_up_day, closed_day)
    FROM known
    UNION ALL
    SELECT *, 'completion', forwarded_day,
        CASE
            WHEN classification = 'pengaduan' AND berkadar_pengawasan THEN 60
            WHEN classification = 'pengaduan' THEN 14
            ELSE 5
        END,
        coalesce(followed_up_day, closed_day)
    FROM known
)
SELECT
    m.complaint_id,
    m.source_id,
    m.institution_id,
    m.classification,
    m.status,
    m.submitted_day,
    m.milestone,
    m.day0,
    m.limit_wd,
    due.date AS deadline,
    m.event_day,
    CASE
        WHEN m.event_day IS NOT NULL AND m.event_day <= due.date THEN 'met'
        WHEN m.event_day IS NOT NULL OR $as_of > due.date THEN 'breached'
        ELSE 'pending'
    END AS outcome,
    event.wd_index - start.wd_index AS wd_to_event,
    today.wd_index - due.wd_index AS wd_past_deadline
FROM milestones AS m
JOIN calendar AS start ON start.date = m.day0
JOIN calendar AS due ON due.is_working_day AND due.wd_index = start.wd_index + m.limit_wd
JOIN calendar AS today ON today.date = $as_of
LEFT JOIN calendar AS event ON event.date = m.event_day
WHERE m.day0 IS NOT NULL
