-- `messages_by_sender` served a catch-up query that the event log has replaced; no statement
-- reads it any more, and every insert wrote it. (`messages_by_time` stays: with a history
-- request's time bound known, Postgres may walk it.)
DROP INDEX IF EXISTS messages_by_sender;
