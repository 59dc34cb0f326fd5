-- Each respondent's index and domain scores, by submission id, from scored_<questionnaire>.
WITH ${respondents}
SELECT "id", "_idx", ${domain_columns}
FROM respondents
ORDER BY "id"${limit}
