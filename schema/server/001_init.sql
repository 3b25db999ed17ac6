-- Server database, version 1: the change log is `rec.seq`. Every change to a
-- record gives it the next sequence number, so `seq > cursor ORDER BY seq`
-- is a client's pull and the log is compacted to one entry per record.
CREATE UNIQUE INDEX rec_seq ON rec (seq);

PRAGMA user_version = 1;
