-- complaint_periods: one row per complaint and reporting period it belongs to: the day, the ISO
-- week (Monday start) and the month of its local submission date, and rolling_30d (the 30 days
-- ending on $as_of) when it falls in them.
-- Inputs: complaint_facts; parameters $as_of, $since (NULL = every period), $periods (list of
-- period names to compute). With $since, only day/week/month periods starting on or after the
-- period that contains $since are kept; rolling_30d always is.
CREATE OR REPLACE TEMP TABLE complaint_periods AS
WITH tagged AS (
    SELECT complaint_id, 'day' AS period, submitted_day AS period_start,
        submitted_day AS period_end
    FROM complaint_facts
    UNION ALL
    SELECT complaint_id, 'week', CAST(date_trunc('week', submitted_day) AS DATE),
        CAST(date_trunc('week', submitted_day) AS DATE) + 6
    FROM complaint_facts
    UNION ALL
    SELECT complaint_id, 'month', CAST(date_trunc('month', submitted_day) AS DATE),
        last_day(submitted_day)
    FROM complaint_facts
    UNION ALL
    SELECT complaint_id, 'rolling_30d', CAST($as_of AS DATE) - 29, CAST($as_of AS DATE)
    FROM complaint_facts
    WHERE submitted_day BETWEEN CAST($as_of AS DATE) - 29 AND CAST($as_of AS DATE)
)
SELECT complaint_id, period, period_start, period_end
FROM tagged
WHERE list_contains($periods, period)
    AND (
        CAST($since AS DATE) IS NULL
        OR period = 'rolling_30d'
        OR period_start >= CASE period
            WHEN 'week' THEN CAST(date_trunc('week', CAST($since AS DATE)) AS DATE)
            WHEN 'month' THEN CAST(date_trunc('month', CAST($since AS DATE)) AS DATE)
            ELSE CAST($since AS DATE)
        END
    )
