-- The commit-ordered event log (the outbox). Every conversation event — a message, a group's
-- creation, a member joining or leaving, a receipt — is written here with its recipients in the
-- transaction of the change. The relay (one at a time, under an advisory lock) gives committed
-- rows their `position` in the order it sees them commit, then publishes them; catch-up and
-- gap repair read by position, so an event committed late can never fall behind a reader.
--
-- `entry` is a chat.v1.LogEntry (event, origin, conversation kind) without its position.
-- `logged_at` is set with the position and never decreases along it, for resuming by time.
--
-- Indexes are few on purpose, since every row is written twice: `id` is indexed only while the
-- row waits for its position (the relay's scan and update), `position` once it has one. Finding
-- the position for a time walks the position index back from the end (times follow positions).
CREATE TABLE event_log (
    id              BIGSERIAL NOT NULL,
    position        BIGINT UNIQUE,
    logged_at       TIMESTAMPTZ,
    conversation_id UUID NOT NULL,
    recipients      UUID[] NOT NULL,
    entry           BYTEA NOT NULL
);
CREATE INDEX event_log_pending ON event_log (id) WHERE position IS NULL;

-- Who gets each positioned event: a user's catch-up is one index range.
CREATE TABLE event_recipients (
    user_id  UUID NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (user_id, position)
);

-- How far the relay has published; a relay taking over publishes again from here.
CREATE TABLE event_relay (
    id        INT PRIMARY KEY CHECK (id = 1),
    published BIGINT NOT NULL
);
INSERT INTO event_relay (id, published) VALUES (1, 0);
