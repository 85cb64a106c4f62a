-- national_metrics: one row per period for the whole country: the same figures as
-- institution_metrics plus source coverage counted in source-days (for a day period: sources).
-- sources_expected = registered sources x days of the period up to $as_of; sources_reported,
-- sources_late, sources_failed as defined in source_day_status.
-- Inputs: group_metrics (grain = 'national'), source_day_status, sources; parameter $as_of.
CREATE OR REPLACE TEMP TABLE national_metrics AS
SELECT
    g.* EXCLUDE (grain, group_id, scope),
    (
        SELECT count(*) FILTER (WHERE d.reported) FROM source_day_status AS d
        WHERE d.day BETWEEN g.period_start AND least(g.period_end, CAST($as_of AS DATE))
    ) AS sources_reported,
    (
        SELECT count(*) FILTER (WHERE d.late) FROM source_day_status AS d
        WHERE d.day BETWEEN g.period_start AND least(g.period_end, CAST($as_of AS DATE))
    ) AS sources_late,
    (
        SELECT count(*) FILTER (WHERE d.failed) FROM source_day_status AS d
        WHERE d.day BETWEEN g.period_start AND least(g.period_end, CAST($as_of AS DATE))
    ) AS sources_failed,
    (SELECT count(*) FROM sources)
        * (least(g.period_end, CAST($as_of AS DATE)) - g.period_start + 1) AS sources_expected
FROM group_metrics AS g
WHERE g.grain = 'national'
ORDER BY g.period, g.period_start
