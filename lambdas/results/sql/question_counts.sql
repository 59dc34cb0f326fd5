-- One question's answers (or one matrix row's), counted: respondents per answer as stored, with the sums of their
-- weights. A multi-choice answer is stored as its options joined by ';'; the caller splits each combination, which
-- keeps this query one GROUP BY that any engine runs the same.
WITH ${respondents}
SELECT ${column} AS "answer", COUNT(*) AS "n", SUM("_w") AS "sw", SUM("_w" * "_w") AS "sww"
FROM respondents
WHERE ${column} IS NOT NULL
GROUP BY ${column}
