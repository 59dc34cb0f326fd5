-- The index and its domains for everyone and per group: for each measure the respondents with a score and the sums
-- a mean and its confidence interval need, unweighted and weighted. GROUPING("_g") is 1 on the row of everyone.
WITH ${respondents},
${scores}
SELECT GROUPING("_g") AS "everyone", "_g" AS "grp",
  ${aggregates}
FROM scored
GROUP BY GROUPING SETS ((), ("_g"))
