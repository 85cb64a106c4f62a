-- half_up_pct(part, whole): 100 * part / whole rounded half-up to 2 decimals, computed in exact
-- integer arithmetic (no floating-point rounding surprises). NULL when whole is 0.
-- Grain: scalar macro. Inputs: none.
CREATE OR REPLACE TEMP MACRO half_up_pct(part, whole) AS (
    CASE
        WHEN whole IS NULL OR whole = 0 THEN NULL
        ELSE CAST(((20000 * part + whole) // (2 * whole)) / 100.0 AS DECIMAL(5, 2))
    END
);
