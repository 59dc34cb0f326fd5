-- DuckDB only: each respondent's raked weight, once, in the order of the relation it is computed from.
CREATE OR REPLACE TEMP TABLE ${weights} AS
SELECT ${weight} AS "_weight"
FROM ${relation} AS s
