-- The index and its domains per group, over scored_<questionnaire>: for each measure the respondents with a score and
-- the sums a mean and its confidence interval need (weighted too when the respondents are). The sums add up, so
-- everyone's figures are the groups' totals.
WITH ${respondents}
SELECT ${group} AS "grp",
  ${aggregates}
FROM respondents${group_by}
