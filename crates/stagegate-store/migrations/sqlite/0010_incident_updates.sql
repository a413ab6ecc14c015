-- Public updates to incidents (SPEC.md §12): what the status page and its
-- feed say, written by an operator; the incident's own message stays
-- internal.
CREATE TABLE incident_updates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    posted_by TEXT NOT NULL,
    posted_at INTEGER NOT NULL
);

CREATE INDEX incident_updates_by_incident ON incident_updates (incident_id, posted_at);
CREATE INDEX incidents_by_environment ON incidents (environment, opened_at);
