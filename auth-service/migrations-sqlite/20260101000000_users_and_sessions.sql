-- Users and their sessions (device logins), the same tables as the Postgres schema. Folded
-- columns hold Rust's to_lowercase() of the original. UUIDs are hyphenated TEXT; times are
-- RFC 3339 TEXT in UTC with exactly six fractional digits and a `Z`, written by the store, so
-- comparing them as text orders them in time.

-- `number` is the rowid: AUTOINCREMENT never hands out a number again, even after the user
-- with the highest one is gone.
CREATE TABLE users (
    number          INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL,
    username        TEXT NOT NULL,
    username_folded TEXT NOT NULL,
    email           TEXT,
    email_folded    TEXT,
    password_hash   TEXT NOT NULL,
    first_name      TEXT NOT NULL DEFAULT '',
    last_name       TEXT NOT NULL DEFAULT '',
    display_name    TEXT NOT NULL DEFAULT '',
    email_confirmed INTEGER NOT NULL DEFAULT 0,
    external_id     TEXT,
    public_key      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    deleted_at      TEXT,
    CONSTRAINT users_id_unique UNIQUE (id),
    CONSTRAINT users_username_folded_unique UNIQUE (username_folded),
    CONSTRAINT users_email_folded_unique UNIQUE (email_folded),
    CONSTRAINT users_external_id_unique UNIQUE (external_id)
) STRICT;

CREATE TABLE sessions (
    id            TEXT NOT NULL PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    device_id     TEXT NOT NULL DEFAULT '',
    platform      TEXT NOT NULL DEFAULT '',
    model         TEXT NOT NULL DEFAULT '',
    build         INTEGER NOT NULL DEFAULT 0,
    name          TEXT NOT NULL DEFAULT '',
    connection_id TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    revoked_at    TEXT,
    CONSTRAINT sessions_connection_id_unique UNIQUE (connection_id),
    CONSTRAINT sessions_token_hash_unique UNIQUE (token_hash)
) STRICT;

CREATE INDEX sessions_user_id ON sessions (user_id);
