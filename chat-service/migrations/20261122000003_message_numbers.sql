-- Messages carry their sender's user number (auth's, given by the sender's request) and their
-- conversation's number, so that a dialect with integer ids renders a message without looking
-- anything up. Numbers never change, so copying them here cannot go stale. Messages stored
-- before this migration have no sender number (0).

ALTER TABLE messages
    ADD COLUMN sender_number BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN conversation_number BIGINT NOT NULL DEFAULT 0;

UPDATE messages m SET conversation_number = c.number
FROM conversations c WHERE c.id = m.conversation_id;
