-- The default of ops.pipeline_runs.pipeline, as Redshift prints it (e.g.
-- 'dpc-elt'::character varying), or NULL.
SELECT column_default
  FROM svv_columns
 WHERE table_schema = 'ops' AND table_name = 'pipeline_runs' AND column_name = 'pipeline'
