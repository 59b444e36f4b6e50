-- The SQLite twin of migrations/20261122000003_message_numbers.sql: messages carry their
-- sender's user number and their conversation's number (both never change); messages stored
-- before it have no sender number (0).

ALTER TABLE messages ADD COLUMN sender_number INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN conversation_number INTEGER NOT NULL DEFAULT 0;

UPDATE messages SET conversation_number =
    (SELECT c.number FROM conversations c WHERE c.id = messages.conversation_id);
