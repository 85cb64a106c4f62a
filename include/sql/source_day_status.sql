-- source_day_status: one row per registered source and day that has at least one ingest run:
-- reported (it has a published run), late (its first published run finished after the day
-- following the source-day, on the WIB calendar) and failed (its latest run is failed or
-- rejected; an earlier publication may still stand, so failed and reported can both be true).
-- Inputs: ingest_runs, sources.
CREATE OR REPLACE TEMP TABLE source_day_status AS
WITH runs AS (
    SELECT
        r.source_id,
        r.day,
        r.status,
        r.finished_at,
        row_number() OVER (
            PARTITION BY r.source_id, r.day
            ORDER BY r.started_at DESC NULLS LAST, r.finished_at DESC NULLS LAST, r.run_id DESC
        ) AS recency
    FROM ingest_runs AS r
    JOIN sources AS s ON s.source_id = r.source_id
)
SELECT
    source_id,
    day,
    bool_or(status = 'published') AS reported,
    coalesce(
        CAST(timezone('Asia/Jakarta', min(finished_at) FILTER (WHERE status = 'published'))
            AS DATE) > day + 1,
        false
    ) AS late,
    bool_or(recency = 1 AND status IN ('failed', 'rejected')) AS failed
FROM runs
GROUP BY source_id, day
