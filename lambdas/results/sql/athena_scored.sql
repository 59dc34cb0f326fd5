-- Athena only: the table scored_<questionnaire>, the flattened submissions with their scores (scored.sql), made once
-- after athena_flatten_<questionnaire>.sql.
CREATE TABLE ${scored_relation}
WITH (format = 'PARQUET'${location})
AS
${scored}
