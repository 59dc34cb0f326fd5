-- Each respondent's domain scores and index, generated from the index definition (lambdas/survey/index.py):
-- an item's score by CASE over its answers (NULL when unanswered or excluded, e.g. 说不清); a domain's score the
-- weighted mean of the item scores present; the index the weighted mean of the domain scores present, the domain
-- weights renormalised over them.
items AS (
  SELECT "id", "_w", ${group} AS "_g",
    ${items}
  FROM respondents
),
domains AS (
  SELECT "id", "_w", "_g",
    ${domains}
  FROM items
),
scored AS (
  SELECT "id", "_w", "_g", ${domain_columns},
    ${index} AS "_idx"
  FROM domains
)
