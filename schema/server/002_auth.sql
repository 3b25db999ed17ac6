-- Server database, version 2: users, roles and rights; registered devices
-- and their tokens; the audit log; and the scope columns that partial
-- replication reads.
--
-- Roles and rights are data: `outpostd role grant|withdraw` changes what a
-- role may do, and the server reads them on every request.

CREATE TABLE roles (
    name  TEXT PRIMARY KEY,
    title TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE rights (
    name TEXT PRIMARY KEY,
    help TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE role_rights (
    role  TEXT NOT NULL REFERENCES roles(name),
    name  TEXT NOT NULL REFERENCES rights(name),
    PRIMARY KEY (role, name)
) WITHOUT ROWID;

-- `name` is the login and what customers carry as their owner; it never
-- changes. `pw` is "pbkdf2-sha256$ITER$SALT$HASH" (server/auth.c).
CREATE TABLE users (
    name       TEXT PRIMARY KEY,
    full_name  TEXT NOT NULL DEFAULT '',
    role       TEXT NOT NULL REFERENCES roles(name),
    supervisor TEXT REFERENCES users(name),
    pw         TEXT NOT NULL,
    disabled   INTEGER NOT NULL DEFAULT 0,
    created    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX users_supervisor ON users(supervisor) WHERE supervisor IS NOT NULL;

-- A device is a client replica registered to one user by a login. Only a
-- SHA-256 of its token is kept; revoking drops it.
CREATE TABLE devices (
    replica   TEXT PRIMARY KEY,
    user      TEXT NOT NULL REFERENCES users(name),
    token     BLOB UNIQUE,
    agent     TEXT NOT NULL DEFAULT '',
    created   INTEGER NOT NULL,
    expires   INTEGER NOT NULL,
    revoked   INTEGER NOT NULL DEFAULT 0,
    last_seen INTEGER NOT NULL DEFAULT 0,
    last_addr TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX devices_user ON devices(user);

-- Who did what to which record, from which device, when (ms).
CREATE TABLE audit (
    seq    INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    user   TEXT NOT NULL,
    device TEXT NOT NULL,
    addr   TEXT NOT NULL,
    action TEXT NOT NULL,
    tbl    TEXT NOT NULL DEFAULT '',
    rec    TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_user ON audit(user, seq);
CREATE INDEX audit_rec ON audit(rec, seq) WHERE rec <> '';

-- Scope of each record: `owner` is the user whose customers it belongs to
-- (a customer's owner field; for a contact or a conflict record, the
-- owner of the record it hangs off, `parent`). NULL owner: visible only
-- to those who may read everything.
ALTER TABLE rec ADD COLUMN owner TEXT;
ALTER TABLE rec ADD COLUMN parent TEXT;
CREATE INDEX rec_owner ON rec(owner, seq);
CREATE INDEX rec_parent ON rec(parent) WHERE parent IS NOT NULL;

-- Records that left an owner's scope (a transfer): a device whose scope
-- holds `owner` but not the record's new owner drops it. `seq` shares the
-- change log's sequence.
CREATE TABLE gone (
    seq   INTEGER PRIMARY KEY,
    tbl   TEXT NOT NULL,
    id    TEXT NOT NULL,
    owner TEXT NOT NULL
);
CREATE INDEX gone_owner ON gone(owner, seq);

UPDATE rec SET owner = nullif(data ->> 'owner', '') WHERE tbl = 'customer';
UPDATE rec SET parent = data ->> 'customer' WHERE tbl = 'contact';
UPDATE rec SET owner = (SELECT c.owner FROM rec c
                         WHERE c.tbl = 'customer' AND c.id = rec.parent)
 WHERE tbl = 'contact';
UPDATE rec SET parent = data ->> 'rec' WHERE tbl = 'conflict';
UPDATE rec SET owner = (SELECT t.owner FROM rec t
                         WHERE t.tbl = rec.data ->> 'tbl' AND t.id = rec.parent)
 WHERE tbl = 'conflict';

INSERT INTO roles(name, title) VALUES
    ('admin', 'system administrator'),
    ('supervisor', 'sales supervisor'),
    ('manager', 'account manager'),
    ('executive', 'executive');

INSERT INTO rights(name, help) VALUES
    ('read.own', 'receive own customers and what hangs off them'),
    ('read.team', 'receive the customers of the team one supervises'),
    ('read.all', 'receive every record'),
    ('write.own', 'create and edit own customers and their contacts'),
    ('write.team', 'create and edit the team''s customers and their contacts'),
    ('write.all', 'create and edit any record'),
    ('delete', 'delete records one may write'),
    ('transfer', 'give a customer one may write to another owner one may write for');

INSERT INTO role_rights(role, name) VALUES
    ('admin', 'read.all'), ('admin', 'write.all'), ('admin', 'delete'),
    ('admin', 'transfer'),
    ('supervisor', 'read.team'), ('supervisor', 'write.team'),
    ('supervisor', 'delete'), ('supervisor', 'transfer'),
    ('manager', 'read.own'), ('manager', 'write.own'), ('manager', 'delete'),
    ('executive', 'read.all');

PRAGMA user_version = 2;
