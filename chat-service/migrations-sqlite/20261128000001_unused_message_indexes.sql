-- Two indexes on `messages` that no query reads, and that every batch of sends writes: each
-- takes a page per conversation in a batch, and SQLite's WAL writes (and the checkpoint copies)
-- every such page whole.
-- `messages_by_time`: history's time bounds filter the (conversation_id, seq) walk its order
-- needs, and SQLite's planner takes that index for them (`EXPLAIN QUERY PLAN`).
-- `messages_by_sender`: it served a catch-up query that the event log has replaced.
DROP INDEX IF EXISTS messages_by_time;
DROP INDEX IF EXISTS messages_by_sender;
