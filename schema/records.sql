-- Record store shared by the server database and the client replica.
--
-- Every synced entity lives in `rec`, one row per record: `state` is the
-- record's full sync state (values, per-field dots, version vector and
-- tombstone) in the wire's msgpack form; `data` is a JSON object of the
-- current field values, kept in step with `state` by the code, so that the
-- entity views below (and reports) can query fields with plain SQL.
-- `alive` is 0 for a deleted record (a tombstone, kept for sync).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value ANY
) WITHOUT ROWID;

CREATE TABLE rec (
    tbl   TEXT    NOT NULL,
    id    TEXT    NOT NULL,
    seq   INTEGER NOT NULL DEFAULT 0,
    alive INTEGER NOT NULL,
    state BLOB    NOT NULL,
    data  TEXT    NOT NULL,
    PRIMARY KEY (tbl, id)
) WITHOUT ROWID;

CREATE INDEX rec_contact_customer ON rec (tbl, data ->> 'customer')
    WHERE tbl = 'contact';
CREATE INDEX rec_conflict_rec ON rec (data ->> 'rec')
    WHERE tbl = 'conflict';

CREATE VIEW customer AS
SELECT id,
       data ->> 'name'         AS name,
       data ->> 'grade'        AS grade,
       data ->> 'region'       AS region,
       data ->> 'industry'     AS industry,
       data ->> 'address'      AS address,
       data ->> 'phone'        AS phone,
       data ->> 'email'        AS email,
       data ->> 'website'      AS website,
       data ->> 'owner'        AS owner,
       data ->> 'credit'       AS credit,
       data ->> 'satisfaction' AS satisfaction,
       data ->> 'note'         AS note
  FROM rec WHERE tbl = 'customer' AND alive = 1;

CREATE VIEW contact AS
SELECT id,
       data ->> 'customer' AS customer,
       data ->> 'name'     AS name,
       data ->> 'title'    AS title,
       data ->> 'phone'    AS phone,
       data ->> 'mobile'   AS mobile,
       data ->> 'email'    AS email,
       data ->> 'birthday' AS birthday,
       data ->> 'note'     AS note
  FROM rec WHERE tbl = 'contact' AND alive = 1;

CREATE VIEW conflict AS
SELECT id,
       data ->> 'tbl'        AS tbl,
       data ->> 'rec'        AS rec,
       data ->> 'field'      AS field,
       data ->> 'kind'       AS kind,
       data ->> 'winner'     AS winner,
       data ->> 'loser'      AS loser,
       data ->> 'winner_rep' AS winner_rep,
       data ->> 'winner_ctr' AS winner_ctr,
       data ->> 'loser_rep'  AS loser_rep,
       data ->> 'loser_ctr'  AS loser_ctr,
       data ->> 'at'         AS at
  FROM rec WHERE tbl = 'conflict' AND alive = 1;
