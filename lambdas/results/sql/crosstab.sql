-- Two questions crossed: respondents per pair of stored answers among those who answered both, with the sums of
-- their weights. Multi-choice answers come as their ';'-joined options; the caller splits them.
WITH ${respondents}
SELECT ${a} AS "a", ${b} AS "b", COUNT(*) AS "n", SUM("_w") AS "sw"
FROM respondents
WHERE ${a} IS NOT NULL AND ${b} IS NOT NULL
GROUP BY ${a}, ${b}
