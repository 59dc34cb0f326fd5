-- Each respondent's index and domain scores, by submission id.
WITH ${respondents},
${scores}
SELECT "id", "_idx", ${domain_columns}
FROM scored
ORDER BY "id"${limit}
