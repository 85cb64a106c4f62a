-- group_metrics: one row per grain (institution | region | national), group, scope and period:
-- the status counts and shares, ratings and SLA compliance every published table shares.
-- Inputs: complaint_facts, complaint_periods; macros largest_remainder_pct, half_up_pct, t975;
-- parameters $as_of, $prior_weight (C of the smoothed rating).
-- Groups: institution = institution_id; region = province_code with scope own_desk (the
-- provinsi's own desk), regencies (its kabupaten and kota) and all (both); national = 'ID'.
-- rating_smoothed = (C x national mean + sum of stars) / (C + count), national mean over the
-- same period; the interval is the t interval of the mean (95 %), clipped to 1..5, NULL for
-- fewer than 2 ratings.
CREATE OR REPLACE TEMP TABLE group_metrics AS
WITH rows AS (
    SELECT f.*, p.period, p.period_start, p.period_end
    FROM complaint_periods AS p
    JOIN complaint_facts AS f USING (complaint_id)
),
grouped AS (
    SELECT 'institution' AS grain, institution_id AS group_id, NULL AS scope, * FROM rows
    UNION ALL
    SELECT 'region', province_code, 'own_desk', * FROM rows
    WHERE level = 'provinsi' AND province_code IS NOT NULL
    UNION ALL
    SELECT 'region', province_code, 'regencies', * FROM rows
    WHERE level IN ('kabupaten', 'kota') AND province_code IS NOT NULL
    UNION ALL
    SELECT 'region', province_code, 'all', * FROM rows
    WHERE level IN ('provinsi', 'kabupaten', 'kota') AND province_code IS NOT NULL
    UNION ALL
    SELECT 'national', 'ID', NULL, * FROM rows
),
counted AS (
    SELECT
        grain,
        group_id,
        scope,
        period,
        period_start,
        any_value(period_end) AS period_end,
        count(*) FILTER (WHERE status = 'received') AS received,
        count(*) FILTER (WHERE status = 'verified') AS verified,
        count(*) FILTER (WHERE status = 'in_process') AS in_process,
        count(*) FILTER (WHERE status = 'followed_up') AS followed_up,
        count(*) FILTER (WHERE status = 'closed') AS closed,
        count(*) FILTER (WHERE status = 'archived') AS archived,
        count(*) AS total,
        count(rating) AS rating_count,
        CAST(coalesce(sum(rating), 0) AS BIGINT) AS rating_sum,
        avg(rating) AS rating_mean,
        stddev_samp(rating) AS rating_sd,
        count(*) FILTER (WHERE sla_verification = 'met') AS sla_verification_met,
        count(*) FILTER (WHERE sla_verification = 'breached') AS sla_verification_breached,
        count(*) FILTER (WHERE sla_verification = 'pending') AS sla_verification_pending,
        count(*) FILTER (WHERE sla_forwarding = 'met') AS sla_forwarding_met,
        count(*) FILTER (WHERE sla_forwarding = 'breached') AS sla_forwarding_breached,
        count(*) FILTER (WHERE sla_forwarding = 'pending') AS sla_forwarding_pending,
        count(*) FILTER (WHERE sla_first_response = 'met') AS sla_first_response_met,
        count(*) FILTER (WHERE sla_first_response = 'breached') AS sla_first_response_breached,
        count(*) FILTER (WHERE sla_first_response = 'pending') AS sla_first_response_pending,
        count(*) FILTER (WHERE sla_completion = 'met') AS sla_completion_met,
        count(*) FILTER (WHERE sla_completion = 'breached') AS sla_completion_breached,
        count(*) FILTER (WHERE sla_completion = 'pending') AS sla_completion_pending,
        quantile_cont(wd_to_followup, 0.5) AS median_wd_to_followup,
        quantile_cont(wd_to_followup, 0.9) AS p90_wd_to_followup
    FROM grouped
    GROUP BY grain, group_id, scope, period, period_start
),
with_prior AS (
    SELECT
        *,
        verified + in_process + followed_up + closed AS forwarded,
        max(CASE WHEN grain = 'national' THEN rating_sum END)
            OVER (PARTITION BY period, period_start) AS national_rating_sum,
        max(CASE WHEN grain = 'national' THEN rating_count END)
            OVER (PARTITION BY period, period_start) AS national_rating_count,
        -- C in millionths, for the exact form of the smoothed rating below
        CAST(round($prior_weight * 1000000) AS HUGEINT) AS prior_millionths
    FROM counted
),
scored AS (
    SELECT
        *,
        -- (C x national mean + s) / (C + n) as a fraction of integers, for exact half-up
        -- rounding: with the national sum NS and count NC, (C x NS / NC + s) / (C + n)
        -- = (C x NS + s x NC) / (NC x (C + n)), both multiplied by 10^6 (C to 6 decimals);
        -- no value (not NaN, which sorts above every score) when C = 0 and nobody rated
        prior_millionths * national_rating_sum
            + CAST(rating_sum AS HUGEINT) * national_rating_count * 1000000 AS smoothed_num,
        CAST(national_rating_count AS HUGEINT)
            * (prior_millionths + CAST(rating_count AS HUGEINT) * 1000000) AS smoothed_den,
        t975(rating_count - 1) * rating_sd / sqrt(rating_count) AS rating_half_width
    FROM with_prior
)
SELECT
    grain,
    group_id,
    scope,
    period,
    period_start,
    period_end,
    CAST($as_of AS DATE) AS as_of,
    received,
    verified,
    in_process,
    followed_up,
    closed,
    archived,
    total,
    forwarded,
    largest_remainder_pct([followed_up + closed, in_process, verified], forwarded, 1)
        AS followed_up_pct,
    largest_remainder_pct([followed_up + closed, in_process, verified], forwarded, 2)
        AS in_process_pct,
    largest_remainder_pct([followed_up + closed, in_process, verified], forwarded, 3)
        AS not_followed_up_pct,
    -- exact half-up rounding of rating_sum / rating_count to 2 decimals
    CASE WHEN rating_count > 0
        THEN ((200 * rating_sum + rating_count) // (2 * rating_count)) / 100.0 END AS rating_avg,
    rating_count,
    rating_sum,
    -- exact half-up rounding of smoothed_num / smoothed_den to 2 decimals
    CASE WHEN smoothed_den > 0
        THEN ((200 * smoothed_num + smoothed_den) // (2 * smoothed_den)) / 100.0 END
        AS rating_smoothed,
    CASE WHEN rating_half_width IS NOT NULL
        THEN round(greatest(1.0, rating_mean - rating_half_width), 2) END AS rating_ci_low,
    CASE WHEN rating_half_width IS NOT NULL
        THEN round(least(5.0, rating_mean + rating_half_width), 2) END AS rating_ci_high,
    sla_verification_met,
    sla_verification_breached,
    sla_verification_pending,
    half_up_pct(sla_verification_met, sla_verification_met + sla_verification_breached)
        AS sla_verification_pct,
    sla_forwarding_met,
    sla_forwarding_breached,
    sla_forwarding_pending,
    half_up_pct(sla_forwarding_met, sla_forwarding_met + sla_forwarding_breached)
        AS sla_forwarding_pct,
    sla_first_response_met,
    sla_first_response_breached,
    sla_first_response_pending,
    half_up_pct(sla_first_response_met, sla_first_response_met + sla_first_response_breached)
        AS sla_first_response_pct,
    sla_completion_met,
    sla_completion_breached,
    sla_completion_pending,
    half_up_pct(sla_completion_met, sla_completion_met + sla_completion_breached)
        AS sla_completion_pct,
    round(median_wd_to_followup, 2) AS median_wd_to_followup,
    round(p90_wd_to_followup, 2) AS p90_wd_to_followup
FROM scored
