-- Athena only: one questionnaire's stored submissions from the table's export, flattened to the columns of the
-- export's Parquet (one per answer field, generated from the questionnaire) as the table every shared query reads.
-- Item.answers.S is the canonical JSON of the answers; a multi-choice answer becomes its options joined by ';'.
CREATE TABLE ${relation}
WITH (format = 'PARQUET'${location})
AS
SELECT
  ${columns}
FROM ${source}
WHERE Item.sk.S = 'submission' AND Item.questionnaire.S ${match}
