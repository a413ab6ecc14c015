-- Restore drills run under the server: when, how long, and how they ended.
-- Kept for good: they are the evidence SG-BACKUP-DRILL and auditors read.
CREATE TABLE drills (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    environment TEXT NOT NULL,
    finished_at INTEGER NOT NULL,
    seconds REAL NOT NULL,
    ok INTEGER NOT NULL,
    message TEXT NOT NULL,
    method TEXT NOT NULL,
    node TEXT NOT NULL
);

CREATE INDEX drills_by_environment ON drills (environment, finished_at);
