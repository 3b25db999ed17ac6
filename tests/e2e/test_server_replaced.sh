#!/usr/bin/env bash
# test_server_replaced.sh - a replica must never sync silently with a server
# database that is not the one it synced with, since that would lose what
# the old database had acknowledged:
#   1. the database restored from an older copy (same server id, shorter
#      change log): sync is refused with a clear message, local changes kept;
#   2. the database replaced by a new one (another server id): the device
#      must log in again (the new database does not know it), and then the
#      sync is refused all the same;
#   3. a fresh replica syncs with the new server normally.
. "$(dirname "$0")/lib.sh"

DB=$E2E_DIR/server.db
start_server "$DB"
init_client A
ID=$(op_ok A customer add --name "Before Backup")
sync_ok A >/dev/null

log "1. restore from an older copy"
stop_server
cp "$DB" "$E2E_DIR/backup.db"
restart_server
op_ok A customer add --name "After Backup" >/dev/null
sync_ok A >/dev/null
stop_server
rm -f "$DB" "$DB-wal" "$DB-shm"
cp "$E2E_DIR/backup.db" "$DB"
restart_server
op_ok A customer edit "$ID" --phone 555 >/dev/null
run_op A sync
assert_ne 0 "$RC" "sync with a server restored from an older copy"
assert_one_line "$ERR" "the error of that sync"
assert_contains "$ERR" "restored from an older copy" "the error of that sync"
assert_not_contains "$ERR" "run outpost sync again" "the error of that sync"
assert_eq 1 "$(pending A)" "A's pending changes after the refused sync"
assert_eq 2 "$(count_customers A)" "A's customers after the refused sync"
assert_eq 1 "$(server_sql "select count(*) from customer")" "customers on the restored server"

log "2. a new database in place of the old one"
stop_server
SERVER_DB=$E2E_DIR/new.db
restart_server
run_op A sync
assert_ne 0 "$RC" "sync with a new server database"
assert_contains "$ERR" "log in again" "a new database does not know the device"
# Even logged in to the new database, the replica refuses to mix the two.
add_user admin admin
login A admin
run_op A sync
assert_ne 0 "$RC" "sync with a new server database"
assert_contains "$ERR" "not the one this replica synced with" "the error of that sync"
assert_eq 1 "$(pending A)" "A's pending changes after the second refused sync"

log "3. a fresh replica syncs with the new server"
init_client C
op_ok C customer add --name "On The New Server" >/dev/null
s=$(sync_ok C)
assert_eq 1 "$(json_get pushed <<<"$s")" "pushed by C"
assert_eq 1 "$(server_sql "select count(*) from customer")" "customers on the new server"
stop_server
