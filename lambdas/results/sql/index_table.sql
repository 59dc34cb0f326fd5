-- The index and its domains per group: for each measure the respondents with a score and the sums a mean and its
-- confidence interval need, unweighted and weighted. The sums add up, so everyone's row is the groups' total.
WITH ${respondents},
${scores}
SELECT "_g" AS "grp",
  ${aggregates}
FROM scored
GROUP BY "_g"
