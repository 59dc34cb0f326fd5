-- DuckDB only: scored_<questionnaire> as the Parquet's view beside an in-memory table of the scores, row for row (a
-- POSITIONAL JOIN: both read the same file in its order), so the scores cost one pass and ~70 bytes a respondent.
CREATE OR REPLACE TEMP TABLE ${scores} AS
SELECT ${score_columns}
FROM (
${scored}
) AS scored;
CREATE OR REPLACE TEMP VIEW ${scored_relation} AS
SELECT *
FROM ${relation} POSITIONAL JOIN ${scores}
