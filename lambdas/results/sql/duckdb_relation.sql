-- DuckDB only: the relation every shared query reads, a view over one questionnaire's Parquet from the export.
-- Columns take Athena's names (a dot is no part of an Athena column name: satisfaction.police is
-- satisfaction__police in both engines). With raked weights, each respondent's weight, computed once into an
-- in-memory table, is joined row for row as "_weight" (a POSITIONAL JOIN: the table was made from the same file in
-- its order). Athena's counterpart is athena_flatten.sql.
CREATE OR REPLACE VIEW ${relation} AS
SELECT ${columns}
FROM read_parquet(${path})${join}
