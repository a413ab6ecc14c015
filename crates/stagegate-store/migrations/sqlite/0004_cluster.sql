-- Cluster mode: every node reports it is alive (and whether it can reach
-- the outside world), and votes on each check; the leader decides.
CREATE TABLE nodes (
    name TEXT PRIMARY KEY,
    location TEXT NOT NULL,
    last_seen INTEGER NOT NULL,
    abstaining INTEGER NOT NULL,
    leader INTEGER NOT NULL
);

CREATE TABLE votes (
    check_key TEXT NOT NULL,
    node TEXT NOT NULL,
    location TEXT NOT NULL,
    status TEXT NOT NULL,
    summary TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (check_key, node)
);
