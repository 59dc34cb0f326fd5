-- Athena only: the DynamoDB table's export to S3 (DynamoDB JSON, one item per line, gzipped), read where it lies.
-- Create it once per export, then run athena_flatten_<questionnaire>.sql for each questionnaire.
CREATE EXTERNAL TABLE IF NOT EXISTS ${source} (
  Item struct<
    pk:struct<S:string>, sk:struct<S:string>, id:struct<S:string>, questionnaire:struct<S:string>,
    day:struct<S:string>, received:struct<S:string>, sponsor:struct<S:string>, channel:struct<S:string>,
    claimed:struct<S:string>, province:struct<S:string>, valid:struct<BOOL:boolean>,
    reasons:struct<L:array<struct<S:string>>>, seconds:struct<N:string>, answers:struct<S:string>>
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION ${location}
