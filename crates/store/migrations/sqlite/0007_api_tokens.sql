-- Machine accounts: a city's platform pushes its datasets nightly with an API token that
-- can import datasets and nothing else. Only the token's SHA-256 is stored.
CREATE TABLE api_tokens (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    token_hash      TEXT NOT NULL UNIQUE,
    scope           TEXT NOT NULL CHECK (scope IN ('datasets:import')),
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_used_at    TEXT,
    revoked_at      TEXT
);
