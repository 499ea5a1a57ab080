-- The default of ops.pipeline_runs.pipeline, as PostgreSQL prints it (e.g.
-- 'dpc-elt'::text), or no row when it has none.
SELECT pg_get_expr(d.adbin, d.adrelid)
  FROM pg_attrdef d
  JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
 WHERE d.adrelid = 'ops.pipeline_runs'::regclass
   AND a.attname = 'pipeline'
