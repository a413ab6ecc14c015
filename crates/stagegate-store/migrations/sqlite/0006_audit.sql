-- The audit log: every change made through the server, hash-chained.
-- Kept for good: it is the evidence of who changed what, and when.
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE INDEX audit_by_action ON audit (action, subject);

-- Appending writes here first, which takes SQLite's write lock before the
-- last record is read: two appends can never chain to the same record.
CREATE TABLE audit_lock (taken INTEGER NOT NULL);
INSERT INTO audit_lock (taken) VALUES (0);
