-- Respondents per cell of the weighting dimensions (e.g. province × age × gender): what raking adjusts.
WITH ${respondents}
SELECT ${dimensions}, COUNT(*) AS "n"
FROM respondents
GROUP BY ${dimensions}
