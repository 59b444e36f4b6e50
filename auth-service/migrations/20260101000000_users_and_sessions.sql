-- Users and their sessions (device logins). Folded columns hold Rust's to_lowercase() of the
-- original, so case-insensitive uniqueness does not depend on the database's locale.

CREATE TABLE users (
    id              UUID PRIMARY KEY,
    number          BIGSERIAL NOT NULL,
    username        TEXT NOT NULL,
    username_folded TEXT NOT NULL,
    email           TEXT,
    email_folded    TEXT,
    password_hash   TEXT NOT NULL,
    first_name      TEXT NOT NULL DEFAULT '',
    last_name       TEXT NOT NULL DEFAULT '',
    display_name    TEXT NOT NULL DEFAULT '',
    email_confirmed BOOLEAN NOT NULL DEFAULT FALSE,
    external_id     TEXT,
    public_key      TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at      TIMESTAMPTZ,
    CONSTRAINT users_number_unique UNIQUE (number),
    CONSTRAINT users_username_folded_unique UNIQUE (username_folded),
    CONSTRAINT users_email_folded_unique UNIQUE (email_folded),
    CONSTRAINT users_external_id_unique UNIQUE (external_id)
);

CREATE TABLE sessions (
    id            UUID PRIMARY KEY,
    user_id       UUID NOT NULL REFERENCES users (id),
    device_id     TEXT NOT NULL DEFAULT '',
    platform      TEXT NOT NULL DEFAULT '',
    model         TEXT NOT NULL DEFAULT '',
    build         BIGINT NOT NULL DEFAULT 0,
    name          TEXT NOT NULL DEFAULT '',
    connection_id UUID NOT NULL,
    token_hash    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at    TIMESTAMPTZ,
    CONSTRAINT sessions_connection_id_unique UNIQUE (connection_id),
    CONSTRAINT sessions_token_hash_unique UNIQUE (token_hash)
);

CREATE INDEX sessions_user_id ON sessions (user_id);
