-- institution_metrics: one row per institution and period (day, week, month, rolling_30d) in
-- which it has complaints: counts per status, shares, ratings, SLA compliance, complaints per
-- 100,000 inhabitants (regional governments with a population only) and the rank among the
-- institutions of the same level (by smoothed rating, then followed-up share, both descending).
-- Inputs: group_metrics (grain = 'institution'), sources.
CREATE OR REPLACE TEMP TABLE institution_metrics AS
SELECT
    g.group_id AS institution_id,
    s.name,
    s.level,
    g.* EXCLUDE (grain, group_id, scope),
    CASE
        WHEN s.level IN ('provinsi', 'kabupaten', 'kota') AND s.population > 0
            THEN round(g.total * 100000.0 / s.population, 2)
    END AS complaints_per_100k,
    rank() OVER (
        PARTITION BY s.level, g.period, g.period_start
        ORDER BY g.rating_smoothed DESC NULLS LAST, g.followed_up_pct DESC NULLS LAST
    ) AS rank_in_level
FROM group_metrics AS g
LEFT JOIN sources AS s ON s.institution_id = g.group_id
WHERE g.grain = 'institution'
ORDER BY g.period, g.period_start, g.group_id
