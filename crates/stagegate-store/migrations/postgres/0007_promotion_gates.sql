-- Approvals of promotions: who, to which mode, for which spec, until when.
CREATE TABLE approvals (
    id BIGSERIAL PRIMARY KEY,
    environment TEXT NOT NULL,
    to_mode TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    spec_sha256 TEXT NOT NULL
);

CREATE INDEX approvals_by_environment ON approvals (environment, approved_at);

-- When the server first saw each environment in each mode: soak time counts
-- from it when no promotion to the mode was recorded.
CREATE TABLE environment_modes (
    environment TEXT NOT NULL,
    mode TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    PRIMARY KEY (environment, mode)
);
