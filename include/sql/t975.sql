-- t975(df): the 0.975 quantile of Student's t with df degrees of freedom (two-sided 95 % interval).
-- Grain: scalar macro. Inputs: none.
-- df 1..30 from the standard table (3 decimals); above 30 the Cornish-Fisher expansion around
-- z = 1.959964, which is within 0.0001 of the exact value there. NULL when df < 1.
CREATE OR REPLACE TEMP MACRO t975(df) AS (
    CASE
        WHEN df IS NULL OR df < 1 THEN NULL
        WHEN df <= 30 THEN [
            12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
            2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
            2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042
        ][CAST(df AS INTEGER)]
        ELSE 1.959964
            + (pow(1.959964, 3) + 1.959964) / (4 * df)
            + (5 * pow(1.959964, 5) + 16 * pow(1.959964, 3) + 3 * 1.959964) / (96 * pow(df, 2))
    END
);
