-- Users' RSA public keys (seed 002): a user registers a key and signs their messages with its
-- private half. A new key does not replace the old ones: messages signed before a rotation keep
-- verifying against the key (by id) that signed them. The newest key signs from then on.
-- `public_key`: the key as SubjectPublicKeyInfo PEM, whatever form (PEM, JWK) it came in.

CREATE TABLE user_keys (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id),
    public_key TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX user_keys_by_user ON user_keys (user_id, created_at);
