-- The audit log: every change made through the server, hash-chained.
-- Kept for good: it is the evidence of who changed what, and when.
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE INDEX audit_by_action ON audit (action, subject);
