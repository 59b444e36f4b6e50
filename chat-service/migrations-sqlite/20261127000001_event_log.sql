-- The SQLite twin of migrations/20261127000001_event_log.sql. SQLite has one writer, so a row
-- gets its position in the transaction that writes it: commit order and position order agree.
-- `recipients` is the user ids joined by commas.
CREATE TABLE event_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    position        INTEGER UNIQUE,
    logged_at       INTEGER,
    conversation_id TEXT NOT NULL,
    recipients      TEXT NOT NULL,
    entry           BLOB NOT NULL
) STRICT;
CREATE INDEX event_log_by_time ON event_log (logged_at, position);

CREATE TABLE event_recipients (
    user_id  TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (user_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE event_relay (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    published INTEGER NOT NULL
) STRICT;
INSERT INTO event_relay (id, published) VALUES (1, 0);
