-- Restore drills run under the server: when, how long, and how they ended.
-- Kept for good: they are the evidence SG-BACKUP-DRILL and auditors read.
CREATE TABLE drills (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment TEXT NOT NULL,
    finished_at BIGINT NOT NULL,
    seconds DOUBLE PRECISION NOT NULL,
    ok BOOLEAN NOT NULL,
    message TEXT NOT NULL,
    method TEXT NOT NULL,
    node TEXT NOT NULL
);

CREATE INDEX drills_by_environment ON drills (environment, finished_at);
