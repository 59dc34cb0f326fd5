-- The relation scored_<questionnaire>: every row of submissions_<questionnaire> with its item scores "_i0", "_i1", …,
-- its domain scores "_d0", "_d1", … (in the index's order) and its index "_idx", generated from the index definition
-- (lambdas/survey/index.py): an item's score by its answer (NULL when unanswered or excluded, e.g. 说不清); a domain's
-- score the weighted mean of the item scores present; the index the weighted mean of the domain scores present, the
-- domain weights renormalised over them. Computed once per export (duckdb_scored.sql, athena_scored.sql), since the
-- scoring is the costly part of every index query.
SELECT d.*,
  ${index} AS "_idx"
FROM (
  SELECT i.*,
    ${domains}
  FROM (
    SELECT s.*,
      ${items}
    FROM ${relation} AS s
  ) AS i
) AS d
