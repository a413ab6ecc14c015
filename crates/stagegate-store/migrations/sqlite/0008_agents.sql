-- Reports of host agents (SPEC.md §11), pruned with the other history, and
-- since when each security update has been pending on each server.
CREATE TABLE agent_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    server TEXT NOT NULL,
    collected_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    report TEXT NOT NULL
);

CREATE INDEX agent_reports_by_server ON agent_reports (server, collected_at);

CREATE TABLE agent_pending (
    server TEXT NOT NULL,
    package TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL,
    PRIMARY KEY (server, package)
);
