-- Client replica, version 1: the outbox holds every local change until the
-- server acknowledges it. `ctr` is the change's dot counter on this replica,
-- so the outbox is pushed in the order it was written.
CREATE TABLE outbox (
    ctr    INTEGER PRIMARY KEY,
    tbl    TEXT NOT NULL,
    id     TEXT NOT NULL,
    change BLOB NOT NULL
);

PRAGMA user_version = 1;
