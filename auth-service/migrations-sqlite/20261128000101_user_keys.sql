-- Users' RSA public keys (seed 002): the same table as the Postgres schema (see its migration).
-- `number` orders a user's keys: the highest is the newest.

CREATE TABLE user_keys (
    number     INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL REFERENCES users (id),
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE INDEX user_keys_by_user ON user_keys (user_id, number);
