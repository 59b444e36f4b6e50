-- Conversations (direct, group, bot), their members with receipt watermarks, messages, and the
-- membership events that catch-up replays. Receipts are watermarks on `members`, not rows.

CREATE TABLE conversations (
    id          UUID PRIMARY KEY,
    number      BIGSERIAL NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('direct', 'group', 'bot')),
    name        TEXT NOT NULL DEFAULT '',
    owner_id    UUID,
    is_public   BOOLEAN NOT NULL DEFAULT FALSE,
    external_id TEXT UNIQUE,
    -- For direct conversations: the two user ids in order, so each pair has one conversation.
    direct_key  TEXT UNIQUE,
    -- Per-conversation counter that assigns `seq` inside the insert's transaction.
    last_seq    BIGINT NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    deleted_at  TIMESTAMPTZ
);

CREATE TABLE members (
    conversation_id    UUID NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id            UUID NOT NULL,
    role               TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member')),
    joined_at          TIMESTAMPTZ NOT NULL,
    left_at            TIMESTAMPTZ,
    last_delivered_seq BIGINT NOT NULL DEFAULT 0,
    last_read_seq      BIGINT NOT NULL DEFAULT 0,
    delivered_at       TIMESTAMPTZ,
    read_at            TIMESTAMPTZ,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id);

CREATE TABLE messages (
    id                UUID PRIMARY KEY,
    number            BIGSERIAL NOT NULL UNIQUE,
    conversation_id   UUID NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq               BIGINT NOT NULL,
    sender_id         UUID NOT NULL,
    body              TEXT NOT NULL,
    client_message_id TEXT,
    signature         TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    edited_at         TIMESTAMPTZ,
    deleted_at        TIMESTAMPTZ,
    CONSTRAINT messages_seq_unique UNIQUE (conversation_id, seq),
    CONSTRAINT messages_client_id_unique UNIQUE (conversation_id, sender_id, client_message_id)
);
CREATE INDEX messages_by_time ON messages (conversation_id, created_at);

CREATE TABLE conversation_events (
    id              BIGSERIAL PRIMARY KEY,
    conversation_id UUID NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('group_created', 'member_joined', 'member_left')),
    user_id         UUID,
    actor_id        UUID,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX conversation_events_by_time ON conversation_events (conversation_id, created_at);
