-- DuckDB only: the relation every shared query reads, a view over one questionnaire's Parquet from the export.
-- Columns take Athena's names (a dot is no part of an Athena column name: satisfaction.police is
-- satisfaction__police in both engines). Athena's counterpart is athena_flatten.sql.
CREATE OR REPLACE VIEW ${relation} AS
SELECT ${columns}
FROM read_parquet(${path})
