-- One alarm action per episode, held by the database rather than by a
-- count before the insert: an action is claimed by the incident event
-- "<action> started", and a second claim of the same episode's incident
-- is a unique violation whoever writes it. rerun-pipeline is the one
-- alarm action; a new one adds its claim text here.
CREATE UNIQUE INDEX incident_events_one_claim ON incident_events (incident_id, text)
    WHERE kind = 'action' AND text = 'rerun-pipeline started';
