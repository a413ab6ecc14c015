-- Dashboard sessions: a browser exchanges an API token for a session
-- cookie. Only a hash of the cookie is kept; revoking the token ends its
-- sessions (they are read joined to it).
CREATE TABLE sessions (
    hash TEXT PRIMARY KEY,
    token_prefix TEXT NOT NULL REFERENCES tokens (prefix),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX sessions_by_expiry ON sessions (expires_at);
