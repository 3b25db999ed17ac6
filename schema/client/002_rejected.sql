-- Client replica, version 2: changes the server refused (no right, an
-- invalid value). They leave the outbox but are kept here, with the
-- server's reason, until the user dismisses them.
CREATE TABLE rejected (
    ctr    INTEGER PRIMARY KEY,
    tbl    TEXT NOT NULL,
    id     TEXT NOT NULL,
    change BLOB NOT NULL,
    code   INTEGER NOT NULL,
    reason TEXT NOT NULL,
    at     INTEGER NOT NULL
);

PRAGMA user_version = 2;
