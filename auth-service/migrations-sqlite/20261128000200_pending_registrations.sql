-- Registrations waiting for their email's confirmation, as in the Postgres schema: one per
-- folded email, the token kept only as its SHA-256, the expiry in Unix milliseconds.
CREATE TABLE pending_registrations (
    email_folded  TEXT NOT NULL PRIMARY KEY,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    CONSTRAINT pending_registrations_token_hash_unique UNIQUE (token_hash)
) STRICT;
