-- The respondents a summary covers.
WITH ${respondents}
SELECT COUNT(*) AS "n"
FROM respondents
