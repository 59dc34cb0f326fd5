-- The respondents a query reads: the relation submissions_<questionnaire> (in DuckDB a view over the export's Parquet,
-- in Athena the table athena_flatten_<questionnaire>.sql makes), or scored_<questionnaire> (the same with the index's
-- scores), the valid ones unless asked otherwise, each with its weight "_w": 1 when unweighted; raked, the product
-- of one factor per category of each weighting dimension (a CASE per dimension).
respondents AS (
  SELECT s.*, ${weight} AS "_w"
  FROM ${relation} AS s
  WHERE ${keep}
)
