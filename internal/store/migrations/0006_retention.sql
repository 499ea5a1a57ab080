-- Retention: the packages that own each table prune their finished rows
-- in small batches (see store.PruneRows). These indexes keep the prunes
-- and the foreign-key checks of their deletes from scanning whole tables.

-- Deleting an alarm_history row makes SQLite look for outbox rows that
-- refer to it; an incident's timeline reads a transition's deliveries.
CREATE INDEX outbox_transition ON outbox (transition_id);

-- Deleting a closed lease and its events.
CREATE INDEX capacity_lease_events_lease ON capacity_lease_events (lease_id, at);

-- The latest ANALYZE COMPRESSION report of each table is kept whatever
-- its age.
CREATE INDEX maintenance_compression_table ON maintenance_compression (table_name, run_id);
