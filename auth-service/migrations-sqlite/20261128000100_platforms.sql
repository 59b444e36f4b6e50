-- Platforms (seed 002) and their users' refresh tokens: the same tables as the Postgres schema
-- (see its migration for what each column means). UUIDs are hyphenated TEXT, times RFC 3339 TEXT.

CREATE TABLE platforms (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    CONSTRAINT platforms_name_unique UNIQUE (name),
    CONSTRAINT platforms_key_hash_unique UNIQUE (key_hash)
) STRICT;

CREATE TABLE refresh_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    created_at TEXT NOT NULL
) STRICT;

CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
