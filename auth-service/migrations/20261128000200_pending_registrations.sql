-- Registrations waiting for their email's confirmation (the web app's POST /http/register).
-- One per folded email: registering again replaces it, with a new token (the old link dies).
-- Only the SHA-256 of the token is kept, so a leaked table confirms nothing. Confirming takes
-- the row (single use) and creates the user; an expired row is taken and refused.
CREATE TABLE pending_registrations (
    email_folded  TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    CONSTRAINT pending_registrations_token_hash_unique UNIQUE (token_hash)
);
