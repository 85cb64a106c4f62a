-- region_metrics: one row per province, scope and period: the institution metrics rolled up over
-- the province's own desk (scope own_desk), its kabupaten and kota (regencies) or both (all).
-- complaints_per_100k uses the province's population for own_desk and all, and the sum of the
-- regencies' populations for regencies. rank_in_level ranks provinces within one scope.
-- Inputs: group_metrics (grain = 'region'), sources (with province_name from regions.csv).
CREATE OR REPLACE TEMP TABLE region_metrics AS
WITH province AS (
    SELECT province_code, any_value(name) AS name, sum(population) AS population
    FROM sources
    WHERE level = 'provinsi'
    GROUP BY province_code
),
province_names AS (
    SELECT province_code, any_value(province_name) AS province_name
    FROM sources
    WHERE province_code IS NOT NULL
    GROUP BY province_code
),
regencies AS (
    SELECT province_code, sum(population) AS population
    FROM sources
    WHERE level IN ('kabupaten', 'kota')
    GROUP BY province_code
)
SELECT
    g.group_id AS province_code,
    p.name,
    coalesce(n.province_name, g.group_id) AS province_name,
    g.scope,
    g.* EXCLUDE (grain, group_id, scope),
    round(
        g.total * 100000.0
        / nullif(CASE WHEN g.scope = 'regencies' THEN r.population ELSE p.population END, 0),
        2
    ) AS complaints_per_100k,
    rank() OVER (
        PARTITION BY g.scope, g.period, g.period_start
        ORDER BY g.rating_smoothed DESC NULLS LAST, g.followed_up_pct DESC NULLS LAST
    ) AS rank_in_level
FROM group_metrics AS g
LEFT JOIN province AS p ON p.province_code = g.group_id
LEFT JOIN regencies AS r ON r.province_code = g.group_id
LEFT JOIN province_names AS n ON n.province_code = g.group_id
WHERE g.grain = 'region'
ORDER BY g.period, g.period_start, g.group_id, g.scope
