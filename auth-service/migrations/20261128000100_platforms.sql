-- Platforms (seed 002): tenants whose backends provision their own users with an API key, and
-- the refresh tokens of their users' token pairs.
--
-- `platforms.key_hash`: SHA-256 (hex) of the API key, which is shown once when the platform is
-- created. A revoked platform's key is refused; its users and chats stay.
-- A platform user is an ordinary user whose `external_id` is `<platform id>/<userID>`, so the
-- existing unique constraint on `external_id` scopes user ids to their platform.
-- `refresh_tokens`: single-use, rotating; a token pair belongs to one session, and the session is
-- the token family: reusing a spent refresh token revokes the session, its access tokens and
-- every refresh token of it.

CREATE TABLE platforms (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ,
    CONSTRAINT platforms_name_unique UNIQUE (name),
    CONSTRAINT platforms_key_hash_unique UNIQUE (key_hash)
);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES sessions (id),
    user_id    UUID NOT NULL REFERENCES users (id),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
