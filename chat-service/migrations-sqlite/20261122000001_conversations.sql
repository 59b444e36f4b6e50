-- The SQLite twin of migrations/20261122000001_conversations.sql: the same tables and rules.
-- UUIDs are lowercase hyphenated TEXT (text order equals Postgres' uuid order); times are
-- INTEGER unix microseconds (Postgres' timestamptz precision); `number` columns are
-- AUTOINCREMENT rowids, so a number is never handed out twice, even after deletes.

CREATE TABLE conversations (
    number      INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('direct', 'group', 'bot')),
    name        TEXT NOT NULL DEFAULT '',
    owner_id    TEXT,
    is_public   INTEGER NOT NULL DEFAULT 0 CHECK (is_public IN (0, 1)),
    external_id TEXT UNIQUE,
    -- For direct conversations: the two user ids in order, so each pair has one conversation.
    direct_key  TEXT UNIQUE,
    -- Per-conversation counter that assigns `seq` inside the insert's transaction.
    last_seq    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
) STRICT;

CREATE TABLE members (
    conversation_id    TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id            TEXT NOT NULL,
    role               TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member')),
    joined_at          INTEGER NOT NULL,
    left_at            INTEGER,
    last_delivered_seq INTEGER NOT NULL DEFAULT 0,
    last_read_seq      INTEGER NOT NULL DEFAULT 0,
    delivered_at       INTEGER,
    read_at            INTEGER,
    PRIMARY KEY (conversation_id, user_id)
) STRICT;
CREATE INDEX members_by_user ON members (user_id);

CREATE TABLE messages (
    number            INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    conversation_id   TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq               INTEGER NOT NULL,
    sender_id         TEXT NOT NULL,
    body              TEXT NOT NULL,
    client_message_id TEXT,
    signature         TEXT,
    created_at        INTEGER NOT NULL,
    edited_at         INTEGER,
    deleted_at        INTEGER,
    CONSTRAINT messages_seq_unique UNIQUE (conversation_id, seq),
    CONSTRAINT messages_client_id_unique UNIQUE (conversation_id, sender_id, client_message_id)
) STRICT;
CREATE INDEX messages_by_time ON messages (conversation_id, created_at);

CREATE TABLE conversation_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('group_created', 'member_joined', 'member_left')),
    user_id         TEXT,
    actor_id        TEXT,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX conversation_events_by_time ON conversation_events (conversation_id, created_at);
