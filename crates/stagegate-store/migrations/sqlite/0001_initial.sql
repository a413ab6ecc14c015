CREATE TABLE check_state (
    check_key TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    consecutive_failures INTEGER NOT NULL,
    consecutive_successes INTEGER NOT NULL,
    last_run_at INTEGER,
    next_run_at INTEGER,
    updated_at INTEGER NOT NULL
);

CREATE TABLE results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    check_key TEXT NOT NULL,
    node TEXT NOT NULL,
    location TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    latency_ms REAL,
    summary TEXT NOT NULL,
    evidence TEXT NOT NULL
);
CREATE INDEX results_by_check_time ON results (check_key, started_at);

CREATE TABLE rollups (
    check_key TEXT NOT NULL,
    period TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    total INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    latency_sum REAL NOT NULL,
    latency_max REAL NOT NULL,
    PRIMARY KEY (check_key, period, bucket)
);

CREATE TABLE incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    check_key TEXT NOT NULL,
    environment TEXT NOT NULL,
    state TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    resolved_at INTEGER,
    message TEXT NOT NULL,
    last_reminder_at INTEGER
);
CREATE UNIQUE INDEX incidents_one_open_per_check ON incidents (check_key) WHERE state <> 'resolved';
CREATE INDEX incidents_by_time ON incidents (opened_at);

CREATE TABLE pings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token TEXT NOT NULL,
    kind TEXT NOT NULL,
    exit_code INTEGER,
    run_id TEXT,
    received_at INTEGER NOT NULL,
    remote TEXT,
    body TEXT
);
CREATE INDEX pings_by_token_time ON pings (token, received_at);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    notifier TEXT NOT NULL,
    contact TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until INTEGER,
    delivered_at INTEGER,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id INTEGER NOT NULL REFERENCES outbox (id),
    attempted_at INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    prefix TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE promotions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    environment TEXT NOT NULL,
    from_mode TEXT NOT NULL,
    to_mode TEXT NOT NULL,
    promoted_by TEXT NOT NULL,
    promoted_at INTEGER NOT NULL,
    digest TEXT NOT NULL,
    report TEXT NOT NULL
);
