CREATE TABLE check_state (
    check_key TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    consecutive_failures BIGINT NOT NULL,
    consecutive_successes BIGINT NOT NULL,
    last_run_at BIGINT,
    next_run_at BIGINT,
    updated_at BIGINT NOT NULL
);

CREATE TABLE results (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    check_key TEXT NOT NULL,
    node TEXT NOT NULL,
    location TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    latency_ms DOUBLE PRECISION,
    summary TEXT NOT NULL,
    evidence TEXT NOT NULL
);
CREATE INDEX results_by_check_time ON results (check_key, started_at);

CREATE TABLE rollups (
    check_key TEXT NOT NULL,
    period TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    total BIGINT NOT NULL,
    passed BIGINT NOT NULL,
    latency_sum DOUBLE PRECISION NOT NULL,
    latency_max DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (check_key, period, bucket)
);

CREATE TABLE incidents (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    check_key TEXT NOT NULL,
    environment TEXT NOT NULL,
    state TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT,
    resolved_at BIGINT,
    message TEXT NOT NULL,
    last_reminder_at BIGINT
);
CREATE UNIQUE INDEX incidents_one_open_per_check ON incidents (check_key) WHERE state <> 'resolved';
CREATE INDEX incidents_by_time ON incidents (opened_at);

CREATE TABLE pings (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token TEXT NOT NULL,
    kind TEXT NOT NULL,
    exit_code BIGINT,
    run_id TEXT,
    received_at BIGINT NOT NULL,
    remote TEXT,
    body TEXT
);
CREATE INDEX pings_by_token_time ON pings (token, received_at);

CREATE TABLE outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedup_key TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    notifier TEXT NOT NULL,
    contact TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT,
    delivered_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

CREATE TABLE deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id BIGINT NOT NULL REFERENCES outbox (id),
    attempted_at BIGINT NOT NULL,
    ok BIGINT NOT NULL,
    error TEXT
);

CREATE TABLE tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    prefix TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE promotions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment TEXT NOT NULL,
    from_mode TEXT NOT NULL,
    to_mode TEXT NOT NULL,
    promoted_by TEXT NOT NULL,
    promoted_at BIGINT NOT NULL,
    digest TEXT NOT NULL,
    report TEXT NOT NULL
);
