-- largest_remainder_pct(counts, total, i): the i-th (1-based) share of `counts` in `total` as a
-- percentage with 2 decimals, rounded by the largest-remainder method so the shares of one list
-- always sum to exactly 100.00 when the counts sum to the total. NULL when total is 0.
-- Grain: scalar macro. Inputs: none.
-- Method: work in basis points (1/100 of a percent); every share gets floor(10000 * c / total),
-- the basis points still missing go one each to the largest remainders; equal remainders go to
-- the earlier position in the list (followed_up, in_process, not_followed_up).
CREATE OR REPLACE TEMP MACRO largest_remainder_pct(counts, total, i) AS (
    CASE
        WHEN total IS NULL OR total = 0 THEN NULL
        ELSE CAST(
            (
                10000 * counts[i] // total
                + CASE
                    WHEN len(list_filter(
                        range(1, len(counts) + 1),
                        lambda j: (10000 * counts[j]) % total > (10000 * counts[i]) % total
                            OR ((10000 * counts[j]) % total = (10000 * counts[i]) % total
                                AND j < i)
                    )) < 10000 - list_sum(list_transform(counts, lambda c: 10000 * c // total))
                    THEN 1
                    ELSE 0
                END
            ) / 100.0 AS DECIMAL(5, 2)
        )
    END
);
