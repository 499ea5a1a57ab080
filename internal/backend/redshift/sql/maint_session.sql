-- Maintenance: label this session's statements, so that SYS_QUERY_HISTORY
-- shows them as dpcops' own (query_label) and query monitoring leaves them
-- alone.
SET query_group TO 'dpcops-maintenance'
